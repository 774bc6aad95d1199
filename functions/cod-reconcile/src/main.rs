use cod_reconcile::Request;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use shared::services::Services;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let services = Services::from_env().await?;
    let services = &services;
    run(service_fn(move |event: LambdaEvent<Request>| async move {
        cod_reconcile::handle(services, event.payload)
            .await
            .map_err(Error::from)
    }))
    .await
}
