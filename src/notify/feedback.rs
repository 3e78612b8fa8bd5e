//! The feedback jobs: reply deadlines breached and escalated, revisits opened. Run by
//! every instance's worker; tests call [`run_jobs`] with the time they choose.

use chrono::NaiveDateTime;

use crate::domain::feedback as rules;
use crate::store::feedback::{self as store, FollowUp};
use crate::store::{DbConn, StoreError, StoreResult, centers, new_id, now};

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
            super::on_ticket_breached(c, &t)?;
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
                            unreachable: false,
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
