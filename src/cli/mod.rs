//! The command line: one module per `voxhire` command, each a thin front door
//! onto the engine (`voxhire-engine`). No command uses another's types.

pub mod call;
pub mod campaign;
pub mod prompts;
pub mod say;
pub mod serve;
pub mod transcribe;
