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

diesel::joinable!(technician_profiles -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    service_centers,
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
);
