//! Column shapes shared by the migrations, so every table spells ids, times and flags alike.
use sea_orm_migration::prelude::*;

/// 64-bit auto-increment primary key.
pub fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

/// Required 64-bit reference to another row.
pub fn reference<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().take()
}

/// Optional 64-bit reference to another row.
pub fn reference_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().null().take()
}

pub fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().not_null().take()
}

pub fn text_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().null().take()
}

pub fn text_default<T: IntoIden>(col: T, default: &str) -> ColumnDef {
    ColumnDef::new(col)
        .text()
        .not_null()
        .default(default)
        .take()
}

pub fn flag<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .boolean()
        .not_null()
        .default(false)
        .take()
}

pub fn count<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .default(0)
        .take()
}

pub fn time<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

pub fn time_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().take()
}

/// `ON DELETE CASCADE` foreign key from `from.col` to `to.id`.
pub fn cascade<F: IntoIden + 'static, C: IntoIden, T: IntoIden + 'static, I: IntoIden>(
    from: F,
    col: C,
    to: T,
    to_id: I,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, to_id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// `ON DELETE SET NULL` foreign key from `from.col` to `to.id`.
pub fn set_null<F: IntoIden + 'static, C: IntoIden, T: IntoIden + 'static, I: IntoIden>(
    from: F,
    col: C,
    to: T,
    to_id: I,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, to_id)
        .on_delete(ForeignKeyAction::SetNull)
        .take()
}

/// Create an index named `name` on `table (cols...)`, unique or not.
pub async fn index<T: IntoIden + 'static>(
    m: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create().name(name).table(table).to_owned();
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    m.create_index(stmt).await
}

/// Drop the index `name` of `table`.
pub async fn drop_index<T: IntoIden + 'static>(
    m: &SchemaManager<'_>,
    name: &str,
    table: T,
) -> Result<(), DbErr> {
    m.drop_index(Index::drop().name(name).table(table).to_owned())
        .await
}

/// Add `columns` to `table`, one statement each (SQLite alters one column at a time).
pub async fn add_columns<T: IntoIden + Clone + 'static>(
    m: &SchemaManager<'_>,
    table: T,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for mut col in columns {
        m.alter_table(
            Table::alter()
                .table(table.clone())
                .add_column(&mut col)
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}

/// Drop `columns` from `table`, one statement each.
pub async fn drop_columns<T: IntoIden + Clone + 'static, C: IntoIden>(
    m: &SchemaManager<'_>,
    table: T,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    for col in columns {
        m.alter_table(
            Table::alter()
                .table(table.clone())
                .drop_column(col)
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}
