use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::customer_contacts::dsl as cc;
use super::schema::customers::dsl as c;
use super::{DbConn, Page, PageReq, StoreResult, lower_pattern};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::customers)]
pub struct CustomerRow {
    pub id: String,
    pub center_id: String,
    pub name: String,
    /// key 大客户 / major 重点客户 / normal
    pub tier: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// cash (pays on site) or credit (periodic invoice)
    pub payment_terms: String,
    pub credit_days: Option<i32>,
    pub notes: Option<String>,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::customer_contacts)]
pub struct Contact {
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub customer_id: String,
    #[serde(skip)]
    pub position: i32,
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub title: Option<String>,
}

/// A customer with its contacts, the first being the primary one.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Customer {
    #[serde(flatten)]
    pub row: CustomerRow,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::customers)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub tier: Option<String>,
    pub address: Option<String>,
    pub lat: Option<Option<f64>>,
    pub lng: Option<Option<f64>>,
    pub payment_terms: Option<String>,
    pub credit_days: Option<Option<i32>>,
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Default)]
pub struct CustomerFilter<'a> {
    pub center: Option<&'a str>,
    pub tier: Option<String>,
    pub payment_terms: Option<String>,
    pub q: Option<String>,
}

pub struct NewContact {
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub title: Option<String>,
}

thread_local! {
    /// Set by every write to customers or their contacts, read (and cleared) by the caller
    /// after its transaction ends, on the same thread: the HTTP layer's customer read cache
    /// is dropped then. See `api::support::in_tx`.
    static CUSTOMERS_CHANGED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread's last transaction wrote a customer or a contact; clears the mark.
pub fn take_customers_changed() -> bool {
    CUSTOMERS_CHANGED.with(|c| c.replace(false))
}

fn mark_customers_changed() {
    CUSTOMERS_CHANGED.with(|c| c.set(true));
}

pub fn insert(conn: &mut DbConn, row: &CustomerRow, contacts: &[NewContact]) -> StoreResult<()> {
    mark_customers_changed();
    diesel::insert_into(c::customers)
        .values(row)
        .execute(conn)?;
    super::search::set_initials(conn, &row.id, &row.center_id, &row.name)?;
    replace_contacts(conn, &row.id, contacts)
}

pub fn replace_contacts(
    conn: &mut DbConn,
    customer_id: &str,
    contacts: &[NewContact],
) -> StoreResult<()> {
    mark_customers_changed();
    diesel::delete(cc::customer_contacts.filter(cc::customer_id.eq(customer_id))).execute(conn)?;
    for (i, n) in contacts.iter().enumerate() {
        let contact = Contact {
            id: super::new_id(),
            customer_id: customer_id.to_string(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            name: n.name.clone(),
            phone: n.phone.clone(),
            email: n.email.clone(),
            title: n.title.clone(),
        };
        diesel::insert_into(cc::customer_contacts)
            .values(&contact)
            .execute(conn)?;
    }
    Ok(())
}

pub fn get_row(conn: &mut DbConn, id: &str) -> StoreResult<CustomerRow> {
    Ok(super::db::per_backend!(conn, |x| c::customers
        .find(id)
        .select(CustomerRow::as_select())
        .first(x))?)
}

pub fn get(conn: &mut DbConn, id: &str) -> StoreResult<Customer> {
    let row = get_row(conn, id)?;
    let contacts = super::db::per_backend!(conn, |x| cc::customer_contacts
        .filter(cc::customer_id.eq(id))
        .order(cc::position.asc())
        .select(Contact::as_select())
        .load(x))?;
    Ok(Customer { row, contacts })
}

/// A page of customers with their contacts: two queries whatever the page size.
pub fn list(conn: &mut DbConn, f: &CustomerFilter, page: &PageReq) -> StoreResult<Page<Customer>> {
    let mut q = c::customers.select(CustomerRow::as_select()).into_boxed();
    if let Some(center) = f.center {
        q = q.filter(c::center_id.eq(center.to_string()));
    }
    if let Some(t) = &f.tier {
        q = q.filter(c::tier.eq(t.clone()));
    }
    if let Some(t) = &f.payment_terms {
        q = q.filter(c::payment_terms.eq(t.clone()));
    }
    if let Some(text) = &f.q {
        q = q.filter(super::lower(c::name).like(lower_pattern(text)).escape('\\'));
    }
    if let Some(after) = &page.after {
        q = q.filter(c::id.gt(after.clone()));
    }
    let rows = q.order(c::id.asc()).limit(page.limit + 1).load(conn)?;
    let page = Page::from_rows(rows, page.limit, |r: &CustomerRow| &r.id);
    let ids: Vec<&str> = page.items.iter().map(|r| r.id.as_str()).collect();
    let mut contacts: Vec<Contact> = if ids.is_empty() {
        Vec::new()
    } else {
        cc::customer_contacts
            .filter(cc::customer_id.eq_any(ids))
            .order((cc::customer_id.asc(), cc::position.asc()))
            .select(Contact::as_select())
            .load(conn)?
    };
    Ok(page.map(|row| {
        let mine: Vec<Contact> = contacts
            .extract_if(.., |x| x.customer_id == row.id)
            .collect();
        Customer {
            row,
            contacts: mine,
        }
    }))
}

pub fn update(conn: &mut DbConn, id: &str, version: i32, patch: &CustomerPatch) -> StoreResult<()> {
    mark_customers_changed();
    versioned_update!(conn, customers, id, id, version, patch)?;
    if let Some(name) = &patch.name {
        let center: String = c::customers.find(id).select(c::center_id).first(conn)?;
        super::search::set_initials(conn, id, &center, name)?;
    }
    Ok(())
}
