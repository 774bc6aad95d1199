use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use web_function::{Config, Web};

// One event at a time per execution environment: one thread drives its I/O.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    aws::telemetry::init();
    let config = Config::from_env()?;
    let web = Web::new(&aws::config::lambda_sdk_config()?, config)?;
    let web = &web;
    run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            Ok::<_, Error>(web.handle(event.payload).await)
        },
    ))
    .await
}
