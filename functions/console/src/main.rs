use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use console_function::{Config, Console};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

// One event at a time per execution environment: one thread drives its I/O.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    aws::telemetry::init();
    let config = Config::from_env()?;
    let console = Console::new(&aws::config::lambda_sdk_config()?, config)?;
    let console = &console;
    run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            Ok::<_, Error>(console.handle(event.payload).await)
        },
    ))
    .await
}
