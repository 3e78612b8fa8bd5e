//! The object store that keeps photos: the local filesystem under the data directory by
//! default, or any S3-compatible store (several instances share one), through the
//! `object_store` crate.

use std::path::Path;
use std::sync::Arc;

use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("no such object")]
    NotFound,
    /// the store cannot be reached or refused: answered 503
    #[error("object store unavailable: {0}")]
    Unavailable(String),
}

impl From<object_store::Error> for ObjectError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => ObjectError::NotFound,
            other => ObjectError::Unavailable(other.to_string()),
        }
    }
}

/// The store and where it is (for the log).
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    pub describe: String,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

impl Objects {
    /// Files under `dir` (created if missing).
    pub fn local(dir: &Path) -> Result<Objects, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create object directory {}: {e}", dir.display()))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| format!("object directory {}: {e}", dir.display()))?;
        Ok(Objects {
            store: Arc::new(fs),
            describe: format!("files in {}", dir.display()),
        })
    }

    /// `s3://bucket[/prefix]` with `options` (`aws_endpoint`, `aws_access_key_id`,
    /// `aws_secret_access_key`, `aws_region`, `aws_allow_http`, …: the names
    /// `object_store`'s `AmazonS3ConfigKey` parses), or `file:///dir`.
    pub fn from_url(url: &str, options: Vec<(String, String)>) -> Result<Objects, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("object store URL {url:?}: {e}"))?;
        if parsed.scheme() == "file" {
            let dir = parsed
                .to_file_path()
                .map_err(|_| format!("object store URL {url:?}: not a directory"))?;
            return Objects::local(&dir);
        }
        if parsed.scheme() != "s3" {
            return Err(format!(
                "object store URL {url:?}: s3://bucket[/prefix] or file:///dir"
            ));
        }
        // object_store's HTTP client takes the process's rustls provider: ring, which
        // lettre uses too (without one, building the client panics)
        let _ = rustls::crypto::ring::default_provider().install_default();
        // a phone waits on an upload: two retries within 10 s, then 503 (the phone's
        // queue tries again later), not object_store's default of three minutes
        let retry = object_store::RetryConfig {
            backoff: Default::default(),
            max_retries: 2,
            retry_timeout: std::time::Duration::from_secs(10),
        };
        let client = object_store::ClientOptions::new()
            .with_connect_timeout(std::time::Duration::from_secs(3))
            .with_timeout(std::time::Duration::from_secs(30));
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_url(url)
            .with_retry(retry)
            .with_client_options(client);
        for (key, value) in options {
            let key: object_store::aws::AmazonS3ConfigKey = key
                .parse()
                .map_err(|e| format!("object store option {key:?}: {e}"))?;
            builder = builder.with_config(key, value);
        }
        let store = builder
            .build()
            .map_err(|e| format!("object store URL {url:?}: {e}"))?;
        let prefix = parsed.path().trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(store)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(
                store,
                Key::from(prefix),
            ))
        };
        Ok(Objects {
            store,
            describe: format!("object store {url}"),
        })
    }

    /// The store from the environment: `DISPATCH_OBJECT_STORE` (an URL as for
    /// [`Objects::from_url`], options from the `AWS_*` variables), else files in
    /// `<data_dir>/objects`.
    pub fn from_env(configured: Option<&str>, data_dir: &Path) -> Result<Objects, String> {
        match configured.filter(|u| !u.trim().is_empty()) {
            Some(url) => {
                let options = std::env::vars()
                    .filter(|(k, _)| k.starts_with("AWS_"))
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    // AWS_PROFILE and the like are not the store's: left out
                    .filter(|(k, _)| k.parse::<object_store::aws::AmazonS3ConfigKey>().is_ok())
                    .collect();
                Objects::from_url(url.trim(), options)
            }
            None => Objects::local(&data_dir.join("objects")),
        }
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError> {
        let key = Key::parse(key).map_err(|e| ObjectError::Unavailable(e.to_string()))?;
        self.store.put(&key, PutPayload::from(bytes)).await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        let key = Key::parse(key).map_err(|e| ObjectError::Unavailable(e.to_string()))?;
        let got = self.store.get(&key).await?;
        Ok(got.bytes().await?.to_vec())
    }
}
