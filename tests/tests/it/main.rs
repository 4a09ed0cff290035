//! Black-box tests of Joinup: a real server, a real SQLite file, real WebSocket clients.
//! One binary, so the server and client code are built once.

mod helpers;
mod services;

mod abuse;
mod api;
mod attack;
mod caps;
mod edge;
mod fallback;
mod faults;
mod golden;
mod hub;
mod kinds;
mod live_edit;
mod organise;
mod phases;
mod privacy;
mod protocol_errors;
mod reports;
mod restart;
mod roles;
mod rooms;
mod safeguarding;
mod scenario;
mod screens;
