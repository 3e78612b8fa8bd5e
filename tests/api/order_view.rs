//! `store::order_view::load` (three statements) reads exactly what the per-table reads
//! of `store::orders`, `vehicles`, `equipment`, `money` and `names` give, for an order
//! with everything on it.

use chrono::NaiveDate;
use serde_json::json;

use dispatch::store::{self, equipment, money, names, order_view, orders, vehicles};

use crate::fixtures::{
    ORDERS, SIGNATURE, act, approve_and_assign, created_order, fit, go_on_site, id_of,
    install_body, line, record, terminal_with, zz,
};

#[tokio::test]
async fn the_order_view_loader_reads_what_the_per_table_reads_read() {
    let s = zz().await;
    let app = &s.app;
    app.created(
        "/api/v1/parts",
        &app.admin,
        &json!({"code": "P-RLY", "name": "继电器", "unit_price_fen": 4800}),
    )
    .await;
    let o = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(
                &s.customer,
                json!([{"plate_no": "豫A83101"}, {"plate_no": "豫A83102"}]),
                true,
            ),
        )
        .await,
    )
    .await;
    let o = approve_and_assign(&s, &o, &s.lead, &[&s.helper], 3).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let o = record(
        app,
        &s.lead.token,
        &o,
        "verbal-approvals",
        json!({"approver_id": s.mgr_id, "content": "同意使用备用继电器"}),
    )
    .await;
    let approval = id_of(&o["verbal_approvals"][0]);
    let o = record(
        app,
        &s.lead.token,
        &o,
        "parts",
        json!({"part_code": "P-RLY", "quantity": 2, "verbal_approval_id": approval}),
    )
    .await;
    let o = record(
        app,
        &s.lead.token,
        &o,
        "parts",
        json!({"part_code": "P-RLY", "quantity": 1}),
    )
    .await;
    let mut o = o;
    for i in 0..2 {
        let line_id = id_of(line(&o, i));
        o = act(
            app,
            &s.lead.token,
            &o,
            &format!("lines/{line_id}/not-done"),
            json!({"reason": "车辆未到场"}),
        )
        .await;
    }
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆", "signature_image": SIGNATURE}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;
    assert!(o["charge"].is_object(), "{o}");
    // the first vehicle holds a terminal with its SIM card, the second nothing
    let purchased = NaiveDate::from_ymd_opt(2025, 1, 10).unwrap();
    let terminal = terminal_with(app, 31, "GT06N", purchased).await;
    let sim = app.create_sim(&app.admin, &app.zz.id, 31).await;
    let vehicle = line(&o, 0)["vehicle_id"].as_str().unwrap().to_string();
    fit(app, &id_of(&terminal), &vehicle, &id_of(&sim)).await;

    let id = id_of(&o);
    let c = &mut app.pool.get().unwrap();
    let got = order_view::load(c, &id).unwrap();

    let order = orders::get(c, &id).unwrap();
    let lines = orders::lines(c, &id).unwrap();
    let ids: Vec<&str> = lines.iter().map(|l| l.vehicle_id.as_str()).collect();
    let plates = vehicles::plates(c, &ids).unwrap();
    let fitted = equipment::fitted(c, &ids).unwrap();
    assert_eq!(format!("{:?}", got.order), format!("{order:?}"));
    assert_eq!(
        got.customer_name,
        names::customer_names(c, &[order.customer_id.as_str()]).unwrap()[&order.customer_id]
    );
    assert_eq!(
        format!("{:?}", got.charge),
        format!("{:?}", money::charge_of_order(c, &id).unwrap())
    );
    assert_eq!(got.lines.len(), 2);
    for (g, l) in got.lines.iter().zip(&lines) {
        assert_eq!(format!("{:?}", g.line), format!("{l:?}"));
        assert_eq!(g.plate_no, plates[&l.vehicle_id]);
        assert_eq!(
            format!("{:?}", g.fitted),
            format!("{:?}", fitted.get(&l.vehicle_id))
        );
    }
    assert!(got.lines[0].fitted.as_ref().unwrap().sim_id.is_some());
    assert!(got.lines[1].fitted.is_none());
    let technicians = orders::assignments(c, &id).unwrap();
    assert_eq!(technicians.len(), 2);
    assert_eq!(format!("{:?}", got.technicians), format!("{technicians:?}"));
    let parts = orders::parts_used(c, &id).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(format!("{:?}", got.parts), format!("{parts:?}"));
    let approvals = orders::verbal_approvals(c, &id).unwrap();
    assert_eq!(approvals.len(), 1);
    assert_eq!(
        format!("{:?}", got.verbal_approvals),
        format!("{approvals:?}")
    );
    assert!(matches!(
        order_view::load(c, "no-such-order"),
        Err(store::StoreError::NotFound)
    ));
}
