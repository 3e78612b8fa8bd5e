//! Where e-mail goes: an SMTP relay (STARTTLS, implicit TLS or plain for local relays), or
//! by default `.eml` files in the data directory, so the embedded default needs no mail
//! server.

use std::path::PathBuf;
use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub enum Transport {
    /// `<dir>/<message id>.eml`; a resend overwrites the same file
    Files(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// Why a delivery failed, and whether trying again may help.
#[derive(Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl Transport {
    /// `smtp://[user:pass@]host[:port][?tls=required|opportunistic]` (plain unless `tls`
    /// says otherwise), `smtps://…` (TLS from the start); `None`: files in `dir`.
    pub fn configure(url: Option<&str>, dir: PathBuf) -> Result<Transport, String> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Transport::Files(dir)),
            Some(u) => {
                let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(u)
                    .map_err(|e| format!("DISPATCH_SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                Ok(Transport::Smtp(t))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::Files(d) => format!("files in {}", d.display()),
            Transport::Smtp(_) => "SMTP".into(),
        }
    }

    pub async fn send(&self, id: &str, msg: Message) -> Result<(), SendError> {
        match self {
            Transport::Files(dir) => {
                let dir = dir.clone();
                let name = format!("{id}.eml");
                let bytes = msg.formatted();
                tokio::task::spawn_blocking(move || {
                    std::fs::create_dir_all(&dir)?;
                    let tmp = dir.join(format!(".{name}.tmp"));
                    std::fs::write(&tmp, bytes)?;
                    std::fs::rename(tmp, dir.join(name))
                })
                .await
                .map_err(|e| SendError {
                    permanent: false,
                    message: e.to_string(),
                })?
                .map_err(|e| SendError {
                    permanent: false,
                    message: format!("cannot write the message file: {e}"),
                })
            }
            Transport::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            }),
        }
    }
}
