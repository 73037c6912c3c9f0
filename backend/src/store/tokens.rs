//! Login sessions and API tokens; both are stored as SHA-256 digests of the bearer secret.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::Result;
use super::schema::{api_tokens, sessions, users};
use super::users::UserRow;
use super::{DbConn, WriteTx};

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub user_id: i64,
    pub token_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub client_addr: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub expires_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct NewApiToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

pub fn insert_session(tx: &mut WriteTx<'_>, row: &NewSession<'_>) -> Result<()> {
    let conn: &mut DbConn = tx;
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn session_with_user(
    conn: &mut DbConn,
    token_hash: &str,
) -> Result<Option<(SessionRow, UserRow)>> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()?)
}

pub fn touch_session(tx: &mut WriteTx<'_>, id: i64, at: NaiveDateTime) -> Result<()> {
    let conn: &mut DbConn = tx;
    diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(at))
        .execute(conn)?;
    Ok(())
}

pub fn delete_session(tx: &mut WriteTx<'_>, token_hash: &str) -> Result<usize> {
    let conn: &mut DbConn = tx;
    Ok(
        diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash)))
            .execute(conn)?,
    )
}

pub fn delete_sessions_of(tx: &mut WriteTx<'_>, user_id: i64) -> Result<usize> {
    let conn: &mut DbConn = tx;
    Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?)
}

/// Ends every session of `user_id` except the one whose digest is `keep_hash`.
pub fn delete_other_sessions_of(
    tx: &mut WriteTx<'_>,
    user_id: i64,
    keep_hash: &str,
) -> Result<usize> {
    let conn: &mut DbConn = tx;
    Ok(diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::token_hash.ne(keep_hash)),
    )
    .execute(conn)?)
}

pub fn delete_expired_sessions(tx: &mut WriteTx<'_>, now: NaiveDateTime) -> Result<usize> {
    let conn: &mut DbConn = tx;
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.lt(now))).execute(conn)?)
}

pub fn insert_api_token(tx: &mut WriteTx<'_>, row: &NewApiToken<'_>) -> Result<ApiTokenRow> {
    let conn: &mut DbConn = tx;
    diesel::insert_into(api_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(api_tokens::table
        .filter(api_tokens::token_hash.eq(row.token_hash))
        .select(ApiTokenRow::as_select())
        .first(conn)?)
}

pub fn api_token_with_user(
    conn: &mut DbConn,
    token_hash: &str,
) -> Result<Option<(ApiTokenRow, UserRow)>> {
    Ok(api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .select((ApiTokenRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()?)
}

pub fn touch_api_token(tx: &mut WriteTx<'_>, id: i64, at: NaiveDateTime) -> Result<()> {
    let conn: &mut DbConn = tx;
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used_at.eq(at))
        .execute(conn)?;
    Ok(())
}

pub fn api_tokens_of(conn: &mut DbConn, user_id: i64) -> Result<Vec<ApiTokenRow>> {
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::revoked_at.is_null())
        .order(api_tokens::id.asc())
        .select(ApiTokenRow::as_select())
        .load(conn)?)
}

/// Marks the token revoked (kept for the record); returns false when it is not the owner's.
pub fn revoke_api_token(
    tx: &mut WriteTx<'_>,
    user_id: i64,
    id: i64,
    at: NaiveDateTime,
) -> Result<bool> {
    let conn: &mut DbConn = tx;
    let n = diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(at)))
    .execute(conn)?;
    Ok(n == 1)
}
