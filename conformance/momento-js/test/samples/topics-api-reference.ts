// Momento Topics API samples (JavaScript/TypeScript), copied VERBATIM from
// shared/seeds/momento-topics-api.txt. Only the wrapping `export async function
// name(topicClient) { ... }` and the imports are added; the bodies must stay byte-for-byte as in
// the docs (they are acceptance criteria: each must run unchanged through @gomomento/sdk's
// TopicClient). They name cache 'test-cache' and topic 'test-topic' themselves.
//
// The seed's third JS sample constructs a TopicClient from a MOMENTO_API_KEY environment
// variable (a Momento cloud key); against a local server the suite builds its TopicClient with
// CredentialProvider.forMomentoLocal instead, so that sample is not run.
//
// This file is loaded by harness.loadSamples(), which strips the TypeScript type syntax.

import {TopicClient, TopicItem, TopicSubscribe, TopicPublish} from '@gomomento/sdk';

export async function example_API_TopicSubscribe(topicClient: TopicClient) {
const result = await topicClient.subscribe('test-cache', 'test-topic', {
onError: () => {
return;
},
onItem: (item: TopicItem) => {
console.log(`Publishing values to the topic 'test-topic': ${item.value().toString()}`);
return;
},
});
if (result instanceof TopicSubscribe.Subscription) {
console.log("Successfully subscribed to topic 'test-topic'");
// Publish a value
await topicClient.publish('test-cache', 'test-topic', 'test-value');
// Wait for published values to be received.
setTimeout(() => {
console.log('Waiting for the published values');
}, 2000);
// Need to close the stream before the example ends or else the example will hang.
result.unsubscribe();
} else if (result instanceof TopicSubscribe.Error) {
throw new Error(
`An error occurred while attempting to subscribe to the topic 'test-topic' in cache 'test-cache': ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_TopicPublish(topicClient: TopicClient) {
const result = await topicClient.publish('test-cache', 'test-topic', 'test-topic-value');
if (result instanceof TopicPublish.Success) {
console.log("Value published to topic 'test-topic'");
} else if (result instanceof TopicPublish.Error) {
throw new Error(
`An error occurred while attempting to publish to the topic 'test-topic' in cache 'test-cache': ${result.errorCode()}: ${result.toString()}`
);
}
}
