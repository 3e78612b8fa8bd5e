use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::users::dsl as u;
use super::{DbConn, Page, PageReq, StoreResult, check_versioned, lower_pattern};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::users)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub center_id: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(skip)]
    pub password_hash: String,
    pub active: bool,
    #[serde(skip)]
    pub token_version: i32,
    #[serde(skip)]
    pub failed_logins: i32,
    #[serde(skip)]
    pub locked_until: Option<NaiveDateTime>,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

/// What every authenticated request needs to know about its caller.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::users)]
pub struct Principal {
    pub id: String,
    pub role: String,
    pub center_id: String,
    pub active: bool,
    pub token_version: i32,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::users)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub center_id: Option<String>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, Default)]
pub struct UserFilter<'a> {
    pub center: Option<&'a str>,
    pub role: Option<String>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

pub fn insert(conn: &mut DbConn, user: &User) -> StoreResult<()> {
    diesel::insert_into(u::users).values(user).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConn, id: &str) -> StoreResult<User> {
    Ok(u::users.find(id).select(User::as_select()).first(conn)?)
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> StoreResult<Option<User>> {
    Ok(u::users
        .filter(u::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn principal(conn: &mut DbConn, id: &str) -> StoreResult<Option<Principal>> {
    Ok(super::db::per_backend!(conn, |c| u::users
        .find(id)
        .select(Principal::as_select())
        .first(c)
        .optional())?)
}

pub fn list(conn: &mut DbConn, f: &UserFilter, page: &PageReq) -> StoreResult<Page<User>> {
    let mut q = u::users.select(User::as_select()).into_boxed();
    if let Some(c) = f.center {
        q = q.filter(u::center_id.eq(c.to_string()));
    }
    if let Some(r) = &f.role {
        q = q.filter(u::role.eq(r.clone()));
    }
    if let Some(a) = f.active {
        q = q.filter(u::active.eq(a));
    }
    if let Some(text) = &f.q {
        let p = lower_pattern(text);
        q = q.filter(
            super::lower(u::username)
                .like(p.clone())
                .escape('\\')
                .or(super::lower(u::display_name).like(p).escape('\\')),
        );
    }
    if let Some(after) = &page.after {
        q = q.filter(u::id.gt(after.clone()));
    }
    let rows = q.order(u::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |x| &x.id))
}

thread_local! {
    /// Set by the writes that change who may sign in (active, token version) and read by
    /// the caller after its transaction ends, on the same thread: the HTTP layer's session
    /// cache is dropped then. See `api::support::in_tx`.
    static PRINCIPALS_CHANGED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread's last transaction changed a user's sign-in state; clears the mark.
pub fn take_principals_changed() -> bool {
    PRINCIPALS_CHANGED.with(|c| c.replace(false))
}

fn mark_principals_changed() {
    PRINCIPALS_CHANGED.with(|c| c.set(true));
}

/// Applies a patch; deactivation and role or center changes revoke the user's tokens.
pub fn update(conn: &mut DbConn, id: &str, version: i32, patch: &UserPatch) -> StoreResult<()> {
    mark_principals_changed();
    let revoke =
        i32::from(patch.active == Some(false) || patch.role.is_some() || patch.center_id.is_some());
    let n = diesel::update(u::users.filter(u::id.eq(id)).filter({
        let (lo, hi) = super::version_range(version);
        u::version.between(lo, hi)
    }))
    .set((
        patch,
        u::token_version.eq(u::token_version + revoke),
        u::version.eq(u::version + 1),
        u::updated_at.eq(super::now()),
    ))
    .execute(conn)?;
    check_versioned(n, || {
        u::users.find(id).select(u::version).first(conn).optional()
    })
}

/// A new password; every token issued before it stops working, and a lockout ends.
pub fn set_password(conn: &mut DbConn, id: &str, hash: &str) -> StoreResult<()> {
    mark_principals_changed();
    diesel::update(u::users.find(id))
        .set((
            u::password_hash.eq(hash),
            u::failed_logins.eq(0),
            u::locked_until.eq(None::<NaiveDateTime>),
            u::token_version.eq(u::token_version + 1),
            u::version.eq(u::version + 1),
            u::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Counts a login attempt before its password is checked, atomically, so parallel
/// guesses cannot share one count. `None`: the account is locked until later.
pub fn reserve_login_attempt(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<i32>> {
    let n = diesel::update(
        u::users
            .filter(u::id.eq(id))
            .filter(u::locked_until.is_null().or(u::locked_until.le(now))),
    )
    .set(u::failed_logins.eq(u::failed_logins + 1))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(
        u::users.find(id).select(u::failed_logins).first(conn)?,
    ))
}

/// Locks the account until `until`, starting a fresh count after it.
pub fn lock_login(conn: &mut DbConn, id: &str, until: NaiveDateTime) -> StoreResult<()> {
    diesel::update(u::users.find(id))
        .set((u::failed_logins.eq(0), u::locked_until.eq(Some(until))))
        .execute(conn)?;
    Ok(())
}

pub fn record_login_success(conn: &mut DbConn, id: &str) -> StoreResult<()> {
    diesel::update(u::users.find(id))
        .set((
            u::failed_logins.eq(0),
            u::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn count(conn: &mut DbConn) -> StoreResult<i64> {
    Ok(u::users.count().get_result(conn)?)
}
