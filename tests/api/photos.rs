//! Photos from the site (issue 17): upload checked by content, stored in the object store
//! (files here; an S3-compatible server when DISPATCH_TEST_S3_URL is set, as
//! scripts/test runs these tests a second time), served to who may see the order, and
//! required by the center before completion unless a manager waives them.

use std::io::Cursor;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::fixtures::{
    ORDERS, SIGNATURE, Zz, act, approve_and_assign, created_order, expect, get_order, go_on_site,
    id_of, install_body, line, version_of, zz,
};

/// A photo-like JPEG (noise over a gradient) of `w` × `h`.
pub(crate) fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut seed: u32 = 0x1234_5678;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed & 0x1f) as u8;
        image::Rgb([
            ((x * 255 / w) as u8).saturating_add(n),
            ((y * 255 / h) as u8).saturating_add(n),
            128u8.saturating_add(n),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .unwrap();
    out.into_inner()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An install order of two vehicles, on site with the lead.
async fn on_site(s: &Zz) -> Value {
    let o = created_order(
        s.app
            .post(
                &format!("{ORDERS}/install"),
                &s.agent,
                &install_body(
                    &s.customer,
                    json!([{"plate_no": "豫A10001"}, {"plate_no": "豫A10002"}]),
                    true,
                ),
            )
            .await,
    )
    .await;
    let o = approve_and_assign(s, &o, &s.lead, &[], 3).await;
    go_on_site(&s.app, &s.lead, &o).await
}

/// PUT the ZZ center's proof rules as `token`.
async fn put_rules(s: &Zz, token: &str, body: Value) -> reqwest::Response {
    s.app
        .req(
            Method::PUT,
            &format!("/api/v1/centers/{}/proof-rules", s.app.zz.id),
            token,
        )
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn set_rules(s: &Zz, install: &[&str]) {
    let body = json!({"install_photos": install, "repair_photos": []});
    expect(put_rules(s, &s.mgr, body).await, StatusCode::OK).await;
}

/// Uploads `bytes` as `kind` (on `line`), at the order's version, with `extra` query.
#[allow(clippy::too_many_arguments)]
async fn upload(
    s: &Zz,
    token: &str,
    order: &Value,
    kind: &str,
    line: Option<&str>,
    bytes: Vec<u8>,
    extra: &str,
    key: Option<&str>,
) -> reqwest::Response {
    let mut url = format!("{ORDERS}/{}/photos?kind={kind}{extra}", id_of(order));
    if let Some(l) = line {
        url.push_str(&format!("&line_id={l}"));
    }
    let mut r = s
        .app
        .req(Method::POST, &url, token)
        .header("Content-Type", "image/jpeg")
        .header("If-Match", format!("\"{}\"", version_of(order)))
        .body(bytes);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    r.send().await.unwrap()
}

fn missing(o: &Value) -> Vec<(Option<String>, String)> {
    o["photos_missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["line_id"].as_str().map(String::from),
                m["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_photo_is_stored_stamped_and_served_to_who_may_see_the_order() {
    let s = zz().await;
    let app = &s.app;
    let o = on_site(&s).await;
    let l0 = id_of(line(&o, 0));
    let file = jpeg(1600, 1200);
    let stamp = "&taken_at=2026-12-05T02:30:00Z&lat=34.7201&lng=113.7003";
    let res = upload(
        &s,
        &s.lead.token,
        &o,
        "unit",
        Some(&l0),
        file.clone(),
        stamp,
        Some("k-photo-1"),
    )
    .await;
    assert_eq!(
        res.headers()["etag"],
        format!("\"{}\"", version_of(&o) + 1).as_str()
    );
    let v = expect(res, StatusCode::OK).await;
    let photos = v["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 1, "{v}");
    let p = &photos[0];
    assert_eq!(p["kind"], "unit");
    assert_eq!(p["line_id"], l0.as_str());
    assert_eq!(p["content_type"], "image/jpeg");
    assert_eq!(p["uploaded_by"], s.lead.id.as_str());
    assert_eq!(p["taken_at"], "2026-12-05T02:30:00");
    let pid = p["id"].as_str().unwrap().to_string();

    // a retry with the same key is the same upload: one photo, the first answer
    let again = upload(
        &s,
        &s.lead.token,
        &o,
        "unit",
        Some(&l0),
        file.clone(),
        stamp,
        Some("k-photo-1"),
    )
    .await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    expect(again, StatusCode::OK).await;
    let list = expect(
        app.get(&format!("{ORDERS}/{}/photos", id_of(&o)), &s.agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["width"], 1600);
    assert_eq!(list[0]["height"], 1200);
    assert_eq!(list[0]["lat"], 34.7201);

    // the file: what was stored (its hash), with the stamp in its EXIF; the thumbnail
    let url = format!("{ORDERS}/{}/photos/{pid}", id_of(&o));
    let res = app.get(&url, &s.agent).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("private")
    );
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let stored = res.bytes().await.unwrap().to_vec();
    assert_eq!(sha(&stored), list[0]["sha256"].as_str().unwrap());
    let stamp = dispatch::media::photo::read_stamp(&stored);
    assert_eq!(
        stamp.taken_at.unwrap().to_string(),
        "2026-12-05 02:30:00",
        "the time is kept in the file"
    );
    let (lat, lng) = stamp.position.unwrap();
    assert!((lat - 34.7201).abs() < 1e-5 && (lng - 113.7003).abs() < 1e-5);
    assert_eq!(image::load_from_memory(&stored).unwrap().width(), 1600);
    let res = app
        .req(Method::GET, &url, &s.agent)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let thumb = app.get(&format!("{url}?size=thumb"), &s.lead.token).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    let t = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((t.width(), t.height()), (320, 240));

    // out of scope: another center's manager, a technician not on the order → 404
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    let (_, other_tech) = app.user("technician", &app.zz.id).await;
    for token in [&bj_mgr, &other_tech] {
        assert_eq!(app.get(&url, token).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            app.get(&format!("{ORDERS}/{}/photos", id_of(&o)), token)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
    // a photo id under another order is not there
    let res = app
        .get(&format!("{ORDERS}/{}/photos/{pid}", s.customer), &s.agent)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_photos_are_refused_and_nothing_is_kept() {
    let s = zz().await;
    let app = &s.app;
    let o = on_site(&s).await;
    let l0 = id_of(line(&o, 0));
    let (_, other_tech) = app.user("technician", &app.zz.id).await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    let before = app.snapshot();
    let objects_dir = app.dir.path().join("objects");
    let files_before = count_files(&objects_dir);

    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (
            b"<html><script>alert(1)</script></html>".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_type",
        ),
        (Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "photo_empty"),
        (
            jpeg(64, 64)[..300].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_corrupt",
        ),
        (
            png_claiming(60_000, 60_000),
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_pixels",
        ),
        (
            vec![0xff; 11 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "photo_too_large",
        ),
    ];
    for (bytes, status, code) in cases {
        let res = upload(&s, &s.lead.token, &o, "unit", Some(&l0), bytes, "", None).await;
        assert_eq!(res.status(), status, "{code}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["code"], code, "{p}");
        assert!(
            p["message_zh"].as_str().is_some_and(|m| !m.is_empty()),
            "{p}"
        );
    }
    // the target, the role, the scope, the version, the state
    let ok = jpeg(32, 32);
    let refusals: Vec<(reqwest::Response, StatusCode, &str)> = vec![
        (
            upload(&s, &s.lead.token, &o, "unit", None, ok.clone(), "", None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            upload(
                &s,
                &s.lead.token,
                &o,
                "site",
                Some(&l0),
                ok.clone(),
                "",
                None,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            upload(
                &s,
                &s.lead.token,
                &o,
                "selfie",
                Some(&l0),
                ok.clone(),
                "",
                None,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            upload(
                &s,
                &s.lead.token,
                &o,
                "unit",
                Some("no-such-line"),
                ok.clone(),
                "",
                None,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            upload(
                &s,
                &s.lead.token,
                &o,
                "unit",
                Some(&l0),
                ok.clone(),
                "&lat=91&lng=10",
                None,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            upload(&s, &s.agent, &o, "unit", Some(&l0), ok.clone(), "", None).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            upload(&s, &other_tech, &o, "unit", Some(&l0), ok.clone(), "", None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            upload(&s, &bj_mgr, &o, "unit", Some(&l0), ok.clone(), "", None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (res, status, code) in refusals {
        assert_eq!(res.status(), status, "{code}");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["code"], code, "{p}");
    }
    let res = s
        .app
        .req(
            Method::POST,
            &format!("{ORDERS}/{}/photos?kind=site", id_of(&o)),
            &s.lead.token,
        )
        .body(ok.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_REQUIRED);
    let mut stale = o.clone();
    stale["version"] = json!(version_of(&o) - 1);
    let res = upload(
        &s,
        &s.lead.token,
        &stale,
        "site",
        None,
        ok.clone(),
        "",
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    app.assert_unchanged(&before);
    assert_eq!(
        count_files(&objects_dir),
        files_before,
        "nothing stored for a refusal"
    );

    // before the technician is on site: 409
    let fresh = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&s.customer, json!([{"plate_no": "豫A10009"}]), true),
        )
        .await,
    )
    .await;
    let fresh = approve_and_assign(&s, &fresh, &s.lead, &[], 9).await;
    let res = upload(&s, &s.lead.token, &fresh, "site", None, ok, "", None).await;
    let p = expect(res, StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "invalid_transition");
}

fn count_files(dir: &std::path::Path) -> usize {
    fn walk(d: &std::path::Path) -> usize {
        std::fs::read_dir(d)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(dir)
}

/// A PNG whose header claims `w` × `h` (a decompression bomb's shape), with a tiny IDAT.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc_in = kind.to_vec();
        crc_in.extend_from_slice(data);
        out.extend_from_slice(&crc_in);
        out.extend_from_slice(&crc32(&crc_in).to_be_bytes());
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

#[tokio::test]
async fn completion_waits_for_the_photos_the_center_requires() {
    let s = zz().await;
    let app = &s.app;
    // the rules: only managers and admins set them, in their own center, with known kinds
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    let before = app.snapshot();
    let unit = json!({"install_photos": ["unit"], "repair_photos": []});
    for (token, body, status) in [
        (&s.lead.token, unit.clone(), StatusCode::FORBIDDEN),
        (&bj_mgr, unit.clone(), StatusCode::NOT_FOUND),
        (
            &s.mgr,
            json!({"install_photos": ["selfie"], "repair_photos": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &s.mgr,
            json!({"install_photos": ["unit"], "repair_photos": [], "acc": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        assert_eq!(
            put_rules(&s, token, body.clone()).await.status(),
            status,
            "{body}"
        );
    }
    app.assert_unchanged(&before);
    set_rules(&s, &["unit", "paperwork"]).await;
    let r = expect(
        app.get(
            &format!("/api/v1/centers/{}/proof-rules", app.zz.id),
            &s.lead.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["install_photos"], json!(["unit", "paperwork"]));

    let o = on_site(&s).await;
    let (l0, l1) = (id_of(line(&o, 0)), id_of(line(&o, 1)));
    assert_eq!(
        missing(&o),
        vec![
            (Some(l0.clone()), "unit".into()),
            (Some(l1.clone()), "unit".into()),
            (None, "paperwork".into())
        ]
    );
    let o = expect(
        upload(
            &s,
            &s.lead.token,
            &o,
            "unit",
            Some(&l0),
            jpeg(40, 30),
            "",
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        missing(&o),
        vec![
            (Some(l1.clone()), "unit".into()),
            (None, "paperwork".into())
        ]
    );
    // a vehicle not worked on needs no photos
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{l1}/not-done"),
        json!({"reason": "车辆未到场"}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{l0}/not-done"),
        json!({"reason": "客户改期"}),
    )
    .await;
    assert_eq!(missing(&o), vec![(None, "paperwork".into())]);
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆", "signature_image": SIGNATURE}),
    )
    .await;
    let before = app.snapshot();
    let res = crate::fixtures::post_action(
        app,
        &s.lead.token,
        &id_of(&o),
        "complete",
        Some(version_of(&o)),
        None,
        &json!({}),
    )
    .await;
    let p = expect(res, StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "photos_missing");
    assert_eq!(p["missing"][0]["kind"], "paperwork");
    assert_eq!(p["missing"][0]["label"], "单据");
    app.assert_unchanged(&before);
    let o = expect(
        upload(
            &s,
            &s.lead.token,
            &o,
            "paperwork",
            None,
            jpeg(40, 30),
            "",
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(missing(&o).is_empty());
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["status"], "completed");
    // evidence is not added after the technician left
    let res = upload(&s, &s.lead.token, &o, "site", None, jpeg(40, 30), "", None).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_manager_may_waive_missing_photos_with_a_reason() {
    let s = zz().await;
    let app = &s.app;
    set_rules(&s, &["site"]).await;
    let o = on_site(&s).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{}/not-done", id_of(line(&o, 0))),
        json!({"reason": "车辆未到场"}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{}/not-done", id_of(line(&o, 1))),
        json!({"reason": "车辆未到场"}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆", "signature_image": SIGNATURE}),
    )
    .await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    let before = app.snapshot();
    // not the technician; not another center's manager; not without a reason
    for (token, body, status) in [
        (
            &s.lead.token,
            json!({"reason": "现场无法拍照"}),
            StatusCode::FORBIDDEN,
        ),
        (
            &s.agent,
            json!({"reason": "现场无法拍照"}),
            StatusCode::FORBIDDEN,
        ),
        (
            &bj_mgr,
            json!({"reason": "现场无法拍照"}),
            StatusCode::NOT_FOUND,
        ),
        (
            &s.mgr,
            json!({"reason": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let res = crate::fixtures::post_action(
            app,
            token,
            &id_of(&o),
            "waive-photos",
            Some(version_of(&o)),
            None,
            &body,
        )
        .await;
        assert_eq!(res.status(), status, "{body}");
    }
    app.assert_unchanged(&before);
    let o = act(
        app,
        &s.mgr,
        &o,
        "waive-photos",
        json!({"reason": "地下车库无信号，客户已书面确认"}),
    )
    .await;
    assert!(missing(&o).is_empty());
    assert_eq!(
        o["photo_waiver"]["reason"],
        "地下车库无信号，客户已书面确认"
    );
    assert_eq!(o["photo_waiver"]["waived_by"], s.mgr_id.as_str());
    let res = crate::fixtures::post_action(
        app,
        &s.mgr,
        &id_of(&o),
        "waive-photos",
        Some(version_of(&o)),
        None,
        &json!({"reason": "再次"}),
    )
    .await;
    assert_eq!(
        expect(res, StatusCode::CONFLICT).await["code"],
        "already_waived"
    );
    let o = get_order(app, &s.lead.token, &id_of(&o)).await;
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["status"], "completed");
}

#[tokio::test]
async fn an_unreachable_object_store_is_a_503_and_nothing_is_recorded() {
    // an S3 endpoint where nothing listens
    let dead = dispatch::media::objects::Objects::from_url(
        "s3://photos/x",
        vec![
            ("aws_endpoint".into(), "http://127.0.0.1:9".into()),
            ("aws_access_key_id".into(), "k".into()),
            ("aws_secret_access_key".into(), "s".into()),
            ("aws_region".into(), "us-east-1".into()),
            ("aws_allow_http".into(), "true".into()),
        ],
    )
    .unwrap();
    let s = crate::fixtures::zz_with(crate::helpers::AppOptions {
        objects: Some(dead),
        ..Default::default()
    })
    .await;
    let o = on_site(&s).await;
    let before = s.app.snapshot();
    let res = upload(&s, &s.lead.token, &o, "site", None, jpeg(64, 48), "", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().contains_key("retry-after"));
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["code"], "objects_unavailable");
    s.app.assert_unchanged(&before);
    // the order still reads: its view does not need the store
    let v = get_order(&s.app, &s.lead.token, &id_of(&o)).await;
    assert_eq!(v["photos"], json!([]));
}

#[tokio::test]
async fn the_printed_order_carries_the_photos_as_thumbnails() {
    let s = zz().await;
    let app = &s.app;
    let mut o = on_site(&s).await;
    let (l0, l1) = (id_of(line(&o, 0)), id_of(line(&o, 1)));
    for l in [&l0, &l1] {
        for kind in ["unit", "wiring", "sim_label"] {
            let res = upload(
                &s,
                &s.lead.token,
                &o,
                kind,
                Some(l),
                jpeg(1600, 1200),
                "&taken_at=2026-12-05T02:30:00Z",
                None,
            )
            .await;
            o = expect(res, StatusCode::OK).await;
        }
    }
    let res = app
        .get(&format!("{ORDERS}/{}/pdf", id_of(&o)), &s.agent)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap().to_vec();
    assert!(
        bytes.len() < 400 * 1024,
        "the PDF with 6 photos is {} bytes",
        bytes.len()
    );
    crate::documents::qpdf_check(&bytes);
    let (text, _) = crate::documents::pdf_text(&bytes);
    assert!(text.contains("现场照片（6张）"), "{text}");
    assert!(
        text.contains("豫A10001终端安装位置·2026-12-0510:30"),
        "{text}"
    );
    assert!(text.contains("豫A10002SIM卡及标签"), "{text}");
    assert!(
        !text.contains("图片暂不可用"),
        "every thumbnail printed: {text}"
    );
}
