//! DLQ inspection and redrive: the logic lives in [`aws::dlq`] so that the operator CLI
//! (`courier-bridge dlq`) and `courier-bridge-local dlq` do exactly the same thing.

pub use aws::dlq::*;
