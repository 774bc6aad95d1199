"""The peer that `make bench` measures webhook-intake against: the same step written the
usual way, as a Python 3 Lambda with boto3 and AWS Lambda Powertools.

For a signed Shopify delivery (`POST /webhooks/shopify/{store}`): the store's webhook secret
from Secrets Manager (Powertools parameters, cached as intake caches it), the base64
HMAC-SHA256 signature, idempotency on the webhook id (Powertools idempotency over DynamoDB),
the payload kept in DynamoDB, one SQS message; answered 200 `accepted`, or `duplicate` for a
repeated webhook id. Run by awslambdaric against the same Runtime API emulator and the same
AWS emulator as webhook-intake (bench/src/bin/per_event.rs creates its table and queue).
"""

import base64
import hashlib
import hmac
import json
import os
import time

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

logger = Logger(service="peer-intake")
persistence = DynamoDBPersistenceLayer(table_name=os.environ["PEER_IDEMPOTENCY_TABLE"])
idempotency = IdempotencyConfig(expires_after_seconds=7 * 24 * 3600)
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
INBOUND_TABLE = os.environ["PEER_INBOUND_TABLE"]
QUEUE_URL = os.environ["PEER_QUEUE_URL"]
SECRETS_PREFIX = os.environ.get("SECRETS_PREFIX", "")


def respond(status, body):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


@idempotent_function(
    data_keyword_argument="delivery",
    persistence_store=persistence,
    config=idempotency,
)
def accept(delivery):
    inbound_id = f"shopify#{delivery['store']}#{delivery['webhook_id']}"
    dynamodb.put_item(
        TableName=INBOUND_TABLE,
        Item={
            "pk": {"S": inbound_id},
            "topic": {"S": delivery["topic"]},
            "received_ms": {"N": str(int(time.time() * 1000))},
            "body": {"B": delivery["body"].encode()},
        },
    )
    sqs.send_message(
        QueueUrl=QUEUE_URL,
        MessageBody=json.dumps(
            {
                "inbound_id": inbound_id,
                "channel": "shopify",
                "store": delivery["store"],
                "topic": delivery["topic"],
            }
        ),
    )
    return inbound_id


@logger.inject_lambda_context
def handler(event, context):
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    store = (event.get("pathParameters") or {}).get("store", "")
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    secret = parameters.get_secret(
        f"{SECRETS_PREFIX}shopify/{store}", transform="json", max_age=300
    )["webhook_secret"]
    expected = base64.b64encode(
        hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    ).decode()
    if not hmac.compare_digest(expected, headers.get("x-shopify-hmac-sha256", "")):
        return respond(401, {"error": "invalid_signature"})
    webhook_id = headers.get("x-shopify-webhook-id")
    topic = headers.get("x-shopify-topic")
    if not webhook_id or not topic:
        return respond(400, {"error": "missing_topic_or_webhook_id"})
    delivery = {
        "store": store,
        "webhook_id": webhook_id,
        "topic": topic,
        "body": raw.decode(),
    }
    # Powertools' key is the hash of the whole argument; a repeated delivery returns the
    # first result without running `accept` again.
    idempotency.register_lambda_context(context)
    first = accept(delivery=delivery)
    logger.info("signed webhook", extra={"webhook_id": webhook_id, "inbound_id": first})
    return respond(200, {"status": "accepted", "inbound_id": first})
