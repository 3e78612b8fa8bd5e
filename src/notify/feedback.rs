//! The feedback jobs: reply deadlines breached and escalated, revisits opened. Run by
//! every instance's worker; tests call [`run_jobs`] with the time they choose.

use chrono::NaiveDateTime;

use crate::domain::feedback::{self as rules, TicketKind};
use crate::store::feedback::{self as store, FollowUp, Ticket};
use crate::store::outbox::{self, OutboxMessage};
use crate::store::{DbConn, StoreError, StoreResult, centers, customers, new_id, now};

/// What a run of the feedback job did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct JobRun {
    pub breached: usize,
    pub revisits: usize,
}

/// The feedback job at `at`: marks tickets whose reply deadline passed without a reply as
/// breached and escalates each to the center's managers (an outbox message), and opens
/// the revisit calls that came due for key (and major) customers. Each item in its own
/// transaction; safe to run from several instances at once.
pub fn run_jobs(c: &mut DbConn, at: NaiveDateTime) -> StoreResult<JobRun> {
    use crate::store::write_tx;
    let mut run = JobRun::default();
    for t in store::unreplied_past_due(c, at, chrono::Duration::days(7), 500)? {
        let marked = write_tx(c, |c| {
            if !store::mark_breached(c, &t.id, at)? {
                return Ok(false);
            }
            store::add_ticket_event(
                c,
                &t.id,
                None,
                "breach",
                None,
                Some("reply deadline passed; escalated to the managers"),
                at,
            )?;
            escalate(c, &t, at)?;
            Ok::<_, StoreError>(true)
        });
        match marked {
            Ok(true) => run.breached += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(ticket = %t.id, error = %e, "ticket breach not recorded"),
        }
    }
    let centers: Vec<String> = centers::list(
        c,
        &Default::default(),
        &crate::store::PageReq {
            after: None,
            limit: 10_000,
        },
    )?
    .items
    .into_iter()
    .map(|c| c.id)
    .collect();
    for center in centers {
        let s = store::settings(c, &center)?;
        for (tier, days) in [
            ("key", Some(s.key_revisit_days)),
            ("major", s.major_revisit_days),
        ] {
            let Some(days) = days else { continue };
            for (customer, last) in store::revisit_candidates(c, &center, tier)? {
                let due = rules::revisit_due(last, i64::from(days));
                if due > at {
                    continue;
                }
                let t = now();
                let inserted = crate::store::write_tx(c, |c| {
                    store::insert_follow_up(
                        c,
                        &FollowUp {
                            id: new_id(),
                            center_id: center.clone(),
                            customer_id: customer,
                            order_id: None,
                            kind: "revisit".into(),
                            status: "open".into(),
                            assignee_id: None,
                            due_at: due,
                            done_at: None,
                            done_by: None,
                            score: None,
                            comment: None,
                            ticket_id: None,
                            version: 1,
                            created_at: t,
                            updated_at: t,
                        },
                    )
                });
                match inserted {
                    Ok(()) => {}
                    // another instance opened it a moment ago
                    Err(StoreError::Duplicate { .. }) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "revisit not opened");
                        continue;
                    }
                }
                run.revisits += 1;
            }
        }
    }
    Ok(run)
}

fn escalate(c: &mut DbConn, t: &Ticket, at: NaiveDateTime) -> StoreResult<()> {
    let to = outbox::manager_addresses(c, &t.center_id)?;
    let customer = customers::get_row(c, &t.customer_id)?;
    let (_, owner) = outbox::user_address(c, &t.owner_id)?;
    let kind = TicketKind::parse(&t.kind).map_or("工单", |k| k.label_zh());
    let subject = format!("【回复超时】{kind} {} · {}", t.number, customer.name);
    let due = crate::documents::render::beijing(t.reply_due_at);
    let text = format!(
        "您好：\n\n{kind} {} 已超过回复时限（{due}）仍未回复，请督办。\n\n客户：{}\n主题：{}\n首问负责人：{owner}\n\n—— 本邮件由派工系统自动发送，请勿直接回复。\n",
        t.number, customer.name, t.subject
    );
    let esc = crate::notify::templates::escape;
    let html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head><body><p>您好：</p><p>{kind} {} 已超过回复时限（{due}）仍未回复，请督办。</p><p>客户：{}<br>主题：{}<br>首问负责人：{}</p></body></html>",
        esc(&t.number),
        esc(&customer.name),
        esc(&t.subject),
        esc(&owner)
    );
    let unaddressed = to.is_empty();
    outbox::enqueue(
        c,
        &OutboxMessage {
            id: new_id(),
            kind: "ticket_breached".into(),
            dedupe_key: Some(format!("ticket-breach:{}", t.id)),
            center_id: t.center_id.clone(),
            order_id: t.order_id.clone(),
            payment_id: None,
            recipients: serde_json::to_string(&to).unwrap_or_else(|_| "[]".into()),
            subject,
            body_text: text,
            body_html: html,
            attachment: None,
            status: if unaddressed { "dead" } else { "pending" }.into(),
            attempts: 0,
            next_attempt_at: at,
            claimed_by: None,
            claimed_until: None,
            last_error: unaddressed.then(|| "no recipient has an e-mail address".into()),
            sent_at: None,
            created_at: now(),
            updated_at: now(),
        },
    )?;
    Ok(())
}
