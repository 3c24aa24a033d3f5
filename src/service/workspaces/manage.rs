//! See the module documentation of `service::workspaces`.
