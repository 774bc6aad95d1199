use dispatch_function::{Config, Dispatch, DispatchEvent};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

// One event at a time; the solver runs on this thread for its budget.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    aws::telemetry::init();
    let config = Config::from_env()?;
    let step = Dispatch::new(&aws::config::lambda_sdk_config()?, config)?;
    let step = &step;
    run(service_fn(
        move |event: LambdaEvent<DispatchEvent>| async move {
            step.handle(event.payload, &event.context.request_id)
                .await
                .map_err(Error::from)
        },
    ))
    .await
}
