//! Tokio websocket transport for [`waweb_session`]: work in progress.
