//! Users rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::Result;
use super::schema::users;
use super::{DbConn, WriteTx};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub password_hash: Option<String>,
    pub role: Option<String>,
    pub disabled: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(tx: &mut WriteTx<'_>, row: &NewUserRow<'_>) -> Result<UserRow> {
    let conn: &mut DbConn = tx;
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)?;
    by_name(conn, row.username)?.ok_or(super::StoreError::NotFound("user"))
}

pub fn by_name(conn: &mut DbConn, name: &str) -> Result<Option<UserRow>> {
    Ok(users::table
        .filter(users::username.eq(name))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn by_id(conn: &mut DbConn, id: i64) -> Result<Option<UserRow>> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConn) -> Result<Vec<UserRow>> {
    Ok(users::table
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(conn)?)
}

pub fn update(tx: &mut WriteTx<'_>, id: i64, changes: &UserChanges) -> Result<usize> {
    let conn: &mut DbConn = tx;
    Ok(diesel::update(users::table.find(id))
        .set(changes)
        .execute(conn)?)
}

pub fn count_active_admins(conn: &mut DbConn) -> Result<i64> {
    Ok(users::table
        .filter(users::role.eq("admin"))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)?)
}
