use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use normalize::{Config, Normalize};

// A Lambda execution environment handles one event at a time: one thread drives its I/O
// (a batch's records still run concurrently), so no hand-offs between worker threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    aws::telemetry::init();
    // Before the first event, not during it: normalize is the function that parses phones.
    domain::Phone::warm_up();
    let config = Config::from_env()?;
    let step = Normalize::new(&aws::config::lambda_sdk_config()?, config)?;
    let step = &step;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(step.handle(event.payload).await)
    }))
    .await
}
