use aws_lambda_events::event::sqs::SqsEvent;
use create_task::{Config, CreateTask};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

// A Lambda execution environment handles one event at a time: one thread drives its I/O
// (a batch's records still run concurrently), so no hand-offs between worker threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    aws::telemetry::init();
    let config = Config::from_env()?;
    let step = CreateTask::new(&aws::config::lambda_sdk_config()?, config)?;
    let step = &step;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(step.handle(event.payload).await)
    }))
    .await
}
