//! DLQ inspection and redrive: the logic lives in [`shared::aws::dlq`] so that the operator
//! CLI (`courier-bridge dlq`) and `courier-bridge-local dlq` do exactly the same thing.

pub use shared::aws::dlq::*;
