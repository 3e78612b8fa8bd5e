// Hand-kept to match migrations/{sqlite,postgres}; the two backends share one schema.
diesel::table! {
    service_centers (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        region -> Text,
        lat -> Double,
        lng -> Double,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        center_id -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        password_hash -> Text,
        active -> Bool,
        token_version -> Integer,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    technician_profiles (user_id) {
        user_id -> Text,
        center_id -> Text,
        can_install -> Bool,
        can_repair -> Bool,
        models -> Text,
        home_lat -> Double,
        home_lng -> Double,
        last_lat -> Nullable<Double>,
        last_lng -> Nullable<Double>,
        last_seen_at -> Nullable<Timestamp>,
        active -> Bool,
        external -> Bool,
        contractor_company -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    customers (id) {
        id -> Text,
        center_id -> Text,
        name -> Text,
        tier -> Text,
        address -> Text,
        lat -> Nullable<Double>,
        lng -> Nullable<Double>,
        payment_terms -> Text,
        credit_days -> Nullable<Integer>,
        notes -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    customer_contacts (id) {
        id -> Text,
        customer_id -> Text,
        position -> Integer,
        name -> Text,
        phone -> Text,
        email -> Nullable<Text>,
        title -> Nullable<Text>,
    }
}

diesel::table! {
    vehicles (id) {
        id -> Text,
        center_id -> Text,
        customer_id -> Text,
        plate_no -> Text,
        vin -> Nullable<Text>,
        model -> Nullable<Text>,
        notes -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        plate_colour -> Nullable<Text>,
    }
}

diesel::table! {
    drivers (id) {
        id -> Text,
        center_id -> Text,
        vehicle_id -> Text,
        name -> Text,
        phone -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    terminal_models (code) {
        code -> Text,
        name -> Text,
        warranty_months -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    terminals (id) {
        id -> Text,
        center_id -> Text,
        imei -> Text,
        model_code -> Text,
        purchase_date -> Date,
        warranty_months -> Integer,
        status -> Text,
        location -> Text,
        technician_id -> Nullable<Text>,
        vehicle_id -> Nullable<Text>,
        notes -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        fault_tag -> Nullable<Text>,
        fault_order_id -> Nullable<Text>,
        /// generated from status/location/technician_id/vehicle_id/center_id (never written)
        place_kind -> Text,
        /// generated (never written)
        place_id -> Text,
    }
}

diesel::table! {
    sim_cards (id) {
        id -> Text,
        center_id -> Text,
        iccid -> Text,
        msisdn -> Text,
        carrier -> Text,
        status -> Text,
        terminal_id -> Nullable<Text>,
        notes -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        stock_kind -> Nullable<Text>,
        stock_ref -> Nullable<Text>,
        faulty -> Bool,
        /// generated: COALESCE(stock_kind, 'warehouse') (never written)
        place_kind -> Text,
        /// generated: COALESCE(stock_ref, center_id) (never written)
        place_id -> Text,
    }
}

diesel::table! {
    part_stock (part_id, place_kind, place_id) {
        part_id -> Text,
        place_kind -> Text,
        place_id -> Text,
        center_id -> Text,
        quantity -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    stock_movements (id) {
        id -> Text,
        center_id -> Text,
        kind -> Text,
        terminal_id -> Nullable<Text>,
        sim_id -> Nullable<Text>,
        part_id -> Nullable<Text>,
        quantity -> BigInt,
        from_kind -> Text,
        from_id -> Text,
        to_kind -> Text,
        to_id -> Text,
        order_id -> Nullable<Text>,
        rma_batch_id -> Nullable<Text>,
        fault_tag -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        at -> Timestamp,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    binding_events (id) {
        id -> Text,
        at -> Timestamp,
        center_id -> Text,
        kind -> Text,
        action -> Text,
        terminal_id -> Text,
        vehicle_id -> Nullable<Text>,
        sim_id -> Nullable<Text>,
        order_id -> Nullable<Text>,
        actor_id -> Text,
        reason -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        entity -> Text,
        entity_id -> Text,
        action -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    number_sequences (center_id, kind, year) {
        center_id -> Text,
        kind -> Text,
        year -> Integer,
        last_value -> BigInt,
    }
}

diesel::table! {
    parts (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        unit_price_fen -> BigInt,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    work_orders (id) {
        id -> Text,
        number -> Text,
        kind -> Text,
        center_id -> Text,
        customer_id -> Text,
        status -> Text,
        held_from -> Nullable<Text>,
        urgency -> Text,
        channel -> Text,
        site_address -> Text,
        site_lat -> Double,
        site_lng -> Double,
        contact_name -> Text,
        contact_phone -> Text,
        window_start -> Nullable<Timestamp>,
        window_end -> Nullable<Timestamp>,
        requested_at -> Timestamp,
        product_model -> Nullable<Text>,
        purchase_date -> Nullable<Date>,
        fault_symptoms -> Nullable<Text>,
        terminal_id -> Nullable<Text>,
        warranty_in -> Nullable<Bool>,
        warranty_ends_on -> Nullable<Date>,
        notes -> Nullable<Text>,
        created_by -> Text,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        reject_reason -> Nullable<Text>,
        lead_technician_id -> Nullable<Text>,
        scheduled_at -> Nullable<Timestamp>,
        outsourcing_reason -> Nullable<Text>,
        outsourcing_approved_by -> Nullable<Text>,
        readiness -> Nullable<Text>,
        ready_at -> Nullable<Timestamp>,
        departed_at -> Nullable<Timestamp>,
        arrived_at -> Nullable<Timestamp>,
        arrived_lat -> Nullable<Double>,
        arrived_lng -> Nullable<Double>,
        completed_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        cancel_reason -> Nullable<Text>,
        signoff_name -> Nullable<Text>,
        signoff_at -> Nullable<Timestamp>,
        signoff_image -> Nullable<Text>,
        parts_total_fen -> Nullable<BigInt>,
        fee_fen -> Nullable<BigInt>,
        wait_seconds -> Nullable<BigInt>,
        repair_seconds -> Nullable<BigInt>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    work_order_technicians (order_id, technician_id) {
        order_id -> Text,
        technician_id -> Text,
        role -> Text,
        assigned_at -> Timestamp,
    }
}

diesel::table! {
    work_order_lines (id) {
        id -> Text,
        order_id -> Text,
        position -> Integer,
        vehicle_id -> Text,
        driver_id -> Nullable<Text>,
        status -> Text,
        work -> Text,
        terminal_id -> Nullable<Text>,
        sim_id -> Nullable<Text>,
        old_terminal_id -> Nullable<Text>,
        old_sim_id -> Nullable<Text>,
        fault_tag -> Nullable<Text>,
        not_done_reason -> Nullable<Text>,
        notes -> Nullable<Text>,
        done_by -> Nullable<Text>,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    work_order_parts (id) {
        id -> Text,
        order_id -> Text,
        line_id -> Nullable<Text>,
        part_id -> Text,
        quantity -> Integer,
        unit_price_fen -> BigInt,
        verbal_approval_id -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    verbal_approvals (id) {
        id -> Text,
        order_id -> Text,
        approver_id -> Text,
        approved_at -> Timestamp,
        content -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
        confirmed_by -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    order_events (id) {
        id -> Text,
        order_id -> Text,
        at -> Timestamp,
        actor_id -> Text,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        comment -> Nullable<Text>,
        received_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    center_settings (center_id) {
        center_id -> Text,
        adjustment_threshold_fen -> BigInt,
        version -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    invoices (id) {
        id -> Text,
        number -> Text,
        center_id -> Text,
        customer_id -> Text,
        period_start -> Date,
        period_end -> Date,
        issue_date -> Date,
        due_date -> Date,
        total_fen -> BigInt,
        paid_fen -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        version -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    charges (id) {
        id -> Text,
        order_id -> Text,
        center_id -> Text,
        customer_id -> Text,
        technician_id -> Nullable<Text>,
        terms -> Text,
        amount_fen -> BigInt,
        adjusted_fen -> BigInt,
        paid_fen -> BigInt,
        status -> Text,
        invoice_id -> Nullable<Text>,
        day -> Date,
        created_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
        version -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    charge_adjustments (id) {
        id -> Text,
        charge_id -> Text,
        kind -> Text,
        amount_fen -> BigInt,
        reason -> Text,
        status -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        center_id -> Text,
        kind -> Text,
        charge_id -> Nullable<Text>,
        order_id -> Nullable<Text>,
        invoice_id -> Nullable<Text>,
        customer_id -> Text,
        amount_fen -> BigInt,
        method -> Text,
        payer_name -> Text,
        paid_at -> Timestamp,
        day -> Date,
        lat -> Nullable<Double>,
        lng -> Nullable<Double>,
        collector_id -> Text,
        on_site -> Bool,
        receipt_no -> Nullable<Text>,
        reverses_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        approved_by -> Nullable<Text>,
        notes -> Nullable<Text>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payment_fapiao (payment_id) {
        payment_id -> Text,
        fapiao_no -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    remittances (id) {
        id -> Text,
        center_id -> Text,
        technician_id -> Text,
        expected_fen -> BigInt,
        submitted_at -> Timestamp,
        submitted_day -> Date,
        status -> Text,
        received_fen -> Nullable<BigInt>,
        confirmed_by -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
        confirmed_day -> Nullable<Date>,
        notes -> Nullable<Text>,
        version -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    remittance_items (remittance_id, payment_id) {
        remittance_id -> Text,
        payment_id -> Text,
    }
}

diesel::table! {
    discrepancies (id) {
        id -> Text,
        remittance_id -> Text,
        center_id -> Text,
        technician_id -> Text,
        amount_fen -> BigInt,
        status -> Text,
        created_at -> Timestamp,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        resolution -> Nullable<Text>,
        version -> Integer,
        updated_at -> Timestamp,
    }
}

// Search keys (migration 2026-12-05-001601_search). The generated columns it adds
// (terminals.imei_rev, sim_cards.iccid_rev/msisdn_rev, vehicles.plate_key/plate_rev/vin_rev,
// customer_contacts.phone_rev, drivers.phone_rev) are read only by store::search's SQL and
// never written, so they are not declared here.
diesel::table! {
    customer_initials (customer_id, initials) {
        customer_id -> Text,
        center_id -> Text,
        initials -> Text,
    }
}

diesel::joinable!(technician_profiles -> users (user_id));
diesel::joinable!(work_order_parts -> parts (part_id));
diesel::joinable!(remittance_items -> payments (payment_id));
diesel::joinable!(payments -> charges (charge_id));

diesel::allow_tables_to_appear_in_same_query!(
    service_centers,
    feedback_settings,
    tickets,
    ticket_events,
    follow_ups,
    follow_up_attempts,
    outbox_messages,
    outbox_attempts,
    users,
    technician_profiles,
    customers,
    customer_contacts,
    vehicles,
    drivers,
    terminal_models,
    terminals,
    sim_cards,
    binding_events,
    audit_log,
    number_sequences,
    parts,
    work_orders,
    work_order_technicians,
    work_order_lines,
    work_order_parts,
    verbal_approvals,
    order_events,
    idempotency_keys,
    center_settings,
    invoices,
    charges,
    charge_adjustments,
    payments,
    payment_fapiao,
    remittances,
    remittance_items,
    discrepancies,
    customer_initials,
    order_photos,
    proof_rules,
    photo_waivers,
    terminal_checks,
    report_waivers,
    part_stock,
    stock_movements,
);

diesel::table! {
    outbox_messages (id) {
        id -> Text,
        kind -> Text,
        dedupe_key -> Nullable<Text>,
        center_id -> Text,
        order_id -> Nullable<Text>,
        payment_id -> Nullable<Text>,
        recipients -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        attachment -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        cause_event_id -> Nullable<Text>,
        snapshot -> Nullable<Text>,
        skip_reason -> Nullable<Text>,
    }
}

diesel::table! {
    outbox_attempts (id) {
        id -> Text,
        message_id -> Text,
        attempt -> Integer,
        worker -> Text,
        started_at -> Timestamp,
        duration_ms -> BigInt,
        ok -> Bool,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(outbox_attempts -> outbox_messages (message_id));

diesel::table! {
    feedback_settings (center_id) {
        center_id -> Text,
        urgent_reply_minutes -> Integer,
        normal_reply_minutes -> Integer,
        key_revisit_days -> Integer,
        major_revisit_days -> Nullable<Integer>,
        version -> Integer,
        updated_at -> Timestamp,
        follow_up_attempts -> Integer,
    }
}

diesel::table! {
    tickets (id) {
        id -> Text,
        number -> Text,
        center_id -> Text,
        customer_id -> Text,
        order_id -> Nullable<Text>,
        kind -> Text,
        channel -> Text,
        urgency -> Text,
        subject -> Text,
        description -> Text,
        status -> Text,
        owner_id -> Text,
        created_by -> Text,
        received_at -> Timestamp,
        reply_due_at -> Timestamp,
        replied_at -> Nullable<Timestamp>,
        reply -> Nullable<Text>,
        breached -> Bool,
        escalated_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        resolution -> Nullable<Text>,
        customer_notified_at -> Nullable<Timestamp>,
        customer_notice -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        follow_up_id -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ticket_events (id) {
        id -> Text,
        ticket_id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        comment -> Nullable<Text>,
    }
}

diesel::table! {
    follow_ups (id) {
        id -> Text,
        center_id -> Text,
        customer_id -> Text,
        order_id -> Nullable<Text>,
        kind -> Text,
        status -> Text,
        assignee_id -> Nullable<Text>,
        due_at -> Timestamp,
        done_at -> Nullable<Timestamp>,
        done_by -> Nullable<Text>,
        score -> Nullable<Integer>,
        comment -> Nullable<Text>,
        ticket_id -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        unreachable -> Bool,
    }
}

diesel::table! {
    follow_up_attempts (id) {
        id -> Text,
        follow_up_id -> Text,
        attempted_by -> Text,
        attempted_at -> Timestamp,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    live_events (id) {
        id -> BigInt,
        kind -> Text,
        entity_id -> Text,
        center_id -> Text,
        status -> Text,
        version -> Integer,
        action -> Text,
        at -> Timestamp,
        audience -> Text,
    }
}

diesel::table! {
    order_photos (id) {
        id -> Text,
        order_id -> Text,
        line_id -> Nullable<Text>,
        kind -> Text,
        content_type -> Text,
        object_key -> Text,
        thumb_key -> Text,
        bytes -> BigInt,
        width -> Integer,
        height -> Integer,
        sha256 -> Text,
        taken_at -> Nullable<Timestamp>,
        lat -> Nullable<Double>,
        lng -> Nullable<Double>,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    proof_rules (center_id) {
        center_id -> Text,
        install_photos -> Text,
        repair_photos -> Text,
        version -> Integer,
        updated_at -> Timestamp,
        report_required -> Bool,
        report_acc -> Bool,
        report_iccid -> Bool,
    }
}

diesel::table! {
    photo_waivers (order_id) {
        order_id -> Text,
        reason -> Text,
        waived_by -> Text,
        waived_at -> Timestamp,
    }
}

diesel::table! {
    terminal_checks (line_id) {
        line_id -> Text,
        order_id -> Text,
        center_id -> Text,
        terminal_id -> Text,
        unique_id -> Text,
        prev_unique_id -> Nullable<Text>,
        imei -> Text,
        iccid -> Text,
        msisdn -> Text,
        plate_no -> Text,
        model -> Text,
        started_at -> Timestamp,
        require_acc -> Bool,
        require_iccid -> Bool,
        generation -> Integer,
        device_id -> Nullable<BigInt>,
        synced -> Bool,
        first_fix_at -> Nullable<Timestamp>,
        first_fix_server_at -> Nullable<Timestamp>,
        fix_lat -> Nullable<Double>,
        fix_lng -> Nullable<Double>,
        seen_iccid -> Nullable<Text>,
        iccid_at -> Nullable<Timestamp>,
        acc_on_at -> Nullable<Timestamp>,
        acc_off_at -> Nullable<Timestamp>,
        passed_at -> Nullable<Timestamp>,
        checked_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    report_waivers (order_id) {
        order_id -> Text,
        reason -> Text,
        waived_by -> Text,
        waived_at -> Timestamp,
    }
}
