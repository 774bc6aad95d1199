use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use shared::services::Services;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let services = Services::from_env().await?;
    let services = &services;
    run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent>| async move {
            ship_by_watch::handle(services, event.payload)
                .await
                .map_err(Error::from)
        },
    ))
    .await
}
