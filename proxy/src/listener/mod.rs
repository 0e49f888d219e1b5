//! The listeners: the forward-proxy front door, the blind tunnel and the admin endpoints.

pub mod admin;
pub mod first_flight;
pub mod forward;
pub mod tunnel;
