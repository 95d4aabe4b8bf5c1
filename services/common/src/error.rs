//! One error type for the service layer. Causes that are ours (SQL, I/O) are logged with their
//! details and reach clients only as `INTERNAL`; causes that are the client's name the field.
//!
//! Neither [`ServiceError`] nor [`LoadError`] implements `Display`: async-graphql turns any
//! `Display` error into a client message, which would leak SQL errors. Without it, `?` in a
//! resolver goes through our conversion, which logs and masks.

use std::sync::Arc;

use async_graphql::ErrorExtensions;

pub type ServiceResult<T> = Result<T, ServiceError>;

#[derive(Debug)]
pub enum ServiceError {
    /// The client sent something we refuse; `field` is the input path, e.g. `sections[2].measures[0].number`.
    Invalid {
        field: String,
        message: String,
    },
    NotFound {
        entity: &'static str,
        id: String,
    },
    /// A named constraint refused the change (e.g. a duplicate).
    Conflict(String),
    /// No (valid) user, and the action needs one.
    Unauthenticated(String),
    Forbidden(String),
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(err))
    }

    /// An internal error from a message (a broken invariant, a peer's malformed answer): logged,
    /// sent to the client only as `INTERNAL`.
    pub fn internal_msg(message: impl Into<String>) -> Self {
        Self::Internal(message.into().into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "BAD_USER_INPUT",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// What the client is told.
    pub fn message(&self) -> String {
        match self {
            Self::Invalid { field, message } => format!("{field}: {message}"),
            Self::NotFound { entity, id } => format!("{entity} {id} not found"),
            Self::Conflict(what) => format!("conflict: {what}"),
            Self::Unauthenticated(what) => format!("unauthenticated: {what}"),
            Self::Forbidden(what) => format!("forbidden: {what}"),
            Self::Internal(_) => "internal error".to_string(),
        }
    }

    /// What the logs are told: an internal error's cause, else the client's message (background
    /// tasks log their failures with it).
    pub fn cause(&self) -> String {
        match self {
            Self::Internal(cause) => cause.to_string(),
            other => other.message(),
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            let constraint = db.constraint().unwrap_or("unnamed").to_string();
            match db.code().as_deref() {
                Some("23505") => {
                    return Self::Conflict(format!("duplicate value violates {constraint}"));
                }
                Some("23503") => {
                    return Self::invalid(constraint, "refers to something that does not exist");
                }
                Some("23514") => return Self::invalid(constraint, "value is out of range"),
                _ => {}
            }
        }
        Self::internal(err)
    }
}

/// A GraphQL `ID` argument as a UUID; `field` names the argument in the error.
pub fn parse_id(field: &str, id: &async_graphql::ID) -> ServiceResult<uuid::Uuid> {
    uuid::Uuid::parse_str(id.as_str())
        .map_err(|_| ServiceError::invalid(field, format!("`{}` is not a valid id", id.as_str())))
}

/// The error of every DataLoader: one failure shared by all keys of a batch.
#[derive(Clone, Debug)]
pub struct LoadError(pub Arc<ServiceError>);

impl From<ServiceError> for LoadError {
    fn from(err: ServiceError) -> Self {
        Self(Arc::new(err))
    }
}

impl From<sqlx::Error> for LoadError {
    fn from(err: sqlx::Error) -> Self {
        ServiceError::from(err).into()
    }
}

/// A batch's shared failure as the caller's own error (same kind and message; an internal cause
/// keeps its text for the log).
impl From<LoadError> for ServiceError {
    fn from(err: LoadError) -> Self {
        match &*err.0 {
            ServiceError::Invalid { field, message } => ServiceError::invalid(field.clone(), message.clone()),
            ServiceError::NotFound { entity, id } => ServiceError::not_found(entity, id),
            ServiceError::Conflict(what) => ServiceError::Conflict(what.clone()),
            ServiceError::Unauthenticated(what) => ServiceError::Unauthenticated(what.clone()),
            ServiceError::Forbidden(what) => ServiceError::Forbidden(what.clone()),
            ServiceError::Internal(cause) => ServiceError::internal_msg(cause.to_string()),
        }
    }
}

impl From<LoadError> for async_graphql::Error {
    fn from(err: LoadError) -> Self {
        graphql_error(&err.0)
    }
}

impl From<ServiceError> for async_graphql::Error {
    fn from(err: ServiceError) -> Self {
        graphql_error(&err)
    }
}

fn graphql_error(err: &ServiceError) -> async_graphql::Error {
    {
        if let ServiceError::Internal(cause) = &err {
            tracing::error!(error = %cause, "internal error");
        }
        let code = err.code();
        let field = match err {
            ServiceError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        async_graphql::Error::new(err.message()).extend_with(|_, e| {
            e.set("code", code);
            if let Some(field) = &field {
                e.set("field", field.as_str());
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_are_not_sent() {
        let err = ServiceError::internal(std::io::Error::other("password=hunter2"));
        let gql: async_graphql::Error = err.into();
        assert_eq!(gql.message, "internal error");
    }

    #[test]
    fn invalid_names_the_field() {
        let gql: async_graphql::Error = ServiceError::invalid("sections[1].title", "must not be empty").into();
        assert_eq!(gql.message, "sections[1].title: must not be empty");
        let ext = gql.extensions.expect("extensions");
        assert_eq!(ext.get("code"), Some(&async_graphql::Value::from("BAD_USER_INPUT")));
        assert_eq!(ext.get("field"), Some(&async_graphql::Value::from("sections[1].title")));
    }

    #[test]
    fn ids_name_the_field() {
        let id = async_graphql::ID("x".into());
        let gql: async_graphql::Error = parse_id("input.plan", &id).unwrap_err().into();
        assert_eq!(gql.message, "input.plan: `x` is not a valid id");
        let uuid = uuid::Uuid::new_v4();
        assert_eq!(parse_id("id", &async_graphql::ID(uuid.to_string())).unwrap(), uuid);
        let internal: async_graphql::Error = ServiceError::internal_msg("peer said nonsense").into();
        assert_eq!(internal.message, "internal error");
    }

    #[test]
    fn loader_errors_are_masked() {
        let gql: async_graphql::Error = LoadError::from(ServiceError::from(sqlx::Error::RowNotFound)).into();
        assert_eq!(gql.message, "internal error");
    }
}
