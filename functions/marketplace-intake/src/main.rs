use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use marketplace_intake::{Config, MarketplaceIntake};

#[tokio::main]
async fn main() -> Result<(), Error> {
    aws::telemetry::init();
    let config = Config::from_env()?;
    let step = MarketplaceIntake::new(&aws::config::lambda_sdk_config()?, config)?;
    let step = &step;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(step.handle(event.payload).await)
    }))
    .await
}
