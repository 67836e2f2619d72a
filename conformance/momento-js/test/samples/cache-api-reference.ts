// Momento Cache API reference samples (JavaScript/TypeScript), copied VERBATIM from
// shared/seeds/momento-cache-api-reference.txt. Only the wrapping `export async function
// name(cacheClient, cacheName) { ... }` is added; the bodies must stay byte-for-byte as in the
// docs (they are acceptance criteria: each must run unchanged against Setsuna).
//
// The TTL samples in the reference are written in Go (UpdateTtl/IncreaseTtl/DecreaseTtl/ItemGetTtl);
// their JS equivalents are at the end of this file and are NOT verbatim.
//
// This file is loaded by harness.loadSamples(), which strips the TypeScript type syntax.

import {
  CacheClient,
  CreateCacheResponse,
  DeleteCacheResponse,
  ListCachesResponse,
  FlushCacheResponse,
  CacheSetResponse,
  CacheSetBatchResponse,
  CacheGetResponse,
  CacheGetBatchResponse,
  CacheDeleteResponse,
  CacheIncrementResponse,
  CacheItemGetTypeResponse,
  ItemType,
  CacheKeyExistsResponse,
  CacheKeysExistResponse,
  CacheSetIfAbsentResponse,
  CacheSetIfPresentResponse,
  CacheSetIfEqualResponse,
  CacheSetIfNotEqualResponse,
  CacheSetIfPresentAndNotEqualResponse,
  CacheSetIfAbsentOrEqualResponse,
  CacheUpdateTtlResponse,
  CacheIncreaseTtlResponse,
  CacheDecreaseTtlResponse,
  CacheItemGetTtlResponse,
} from '@gomomento/sdk';

// ----------------------------------------------------------------------------------------------
// Control API

export async function example_API_CreateCache(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.createCache(cacheName);
switch (result.type) {
case CreateCacheResponse.AlreadyExists:
console.log(`Cache '${cacheName}' already exists`);
break;
case CreateCacheResponse.Success:
console.log(`Cache '${cacheName}' created`);
break;
case CreateCacheResponse.Error:
throw new Error(
`An error occurred while attempting to create cache '${cacheName}': ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_DeleteCache(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.deleteCache(cacheName);
switch (result.type) {
case DeleteCacheResponse.Success:
console.log(`Cache '${cacheName}' deleted`);
break;
case DeleteCacheResponse.Error:
throw new Error(
`An error occurred while attempting to delete cache '${cacheName}': ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_ListCaches(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.listCaches();
switch (result.type) {
case ListCachesResponse.Success:
console.log(
`Caches:\n${result
.getCaches()
.map(c => c.getName())
.join('\n')}\n\n`
);
break;
case ListCachesResponse.Error:
throw new Error(`An error occurred while attempting to list caches: ${result.errorCode()}: ${result.toString()}`);
}
}

export async function example_API_FlushCache(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.flushCache(cacheName);
switch (result.type) {
case FlushCacheResponse.Success:
console.log(`Cache '${cacheName}' flushed`);
break;
case FlushCacheResponse.Error:
throw new Error(
`An error occurred while attempting to flush cache '${cacheName}': ${result.errorCode()}: ${result.toString()}`
);
}
}

// ----------------------------------------------------------------------------------------------
// Data API

export async function example_API_Set(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.set(cacheName, 'test-key', 'test-value');
switch (result.type) {
case CacheSetResponse.Success:
console.log("Key 'test-key' stored successfully");
break;
case CacheSetResponse.Error:
throw new Error(
`An error occurred while attempting to store key 'test-key' in cache '${cacheName}': ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_SetBatch(cacheClient: CacheClient, cacheName: string) {
const values = new Map<string, string>([
['abc', '123'],
['xyz', '321'],
['123', 'xyz'],
['321', 'abc'],
]);
const result = await cacheClient.setBatch(cacheName, values);
switch (result.type) {
case CacheSetBatchResponse.Success:
console.log('Keys and values stored successfully');
break;
case CacheSetBatchResponse.Error:
throw new Error(
`An error occurred while attempting to batch set in cache '${cacheName}': ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_Get(cacheClient: CacheClient, cacheName: string) {
const getResponse = await cacheClient.get(cacheName, 'test-key');
// simplified style; assume the value was found
console.log(`cache hit: ${getResponse.value()!}`);

// pattern-matching style; safer for production code
switch (getResponse.type) {
case CacheGetResponse.Hit:
console.log(`Retrieved value for key 'test-key': ${getResponse.valueString()}`);
break;
case CacheGetResponse.Miss:
console.log(`Key 'test-key' was not found in cache '${cacheName}'`);
break;
case CacheGetResponse.Error:
throw new Error(
`An error occurred while attempting to get key 'test-key' from cache '${cacheName}': ${getResponse.errorCode()}: ${getResponse.toString()}`
);
}
}

export async function example_API_GetBatch(cacheClient: CacheClient, cacheName: string) {
const keys = ['abc', 'xyz', '123', '321'];
const getBatchResponse = await cacheClient.getBatch(cacheName, keys);

// simplified style; assume the value was found
const values = getBatchResponse.values()!;
for (const key of keys) {
console.log(`Retrieved value for key '${key}': ${values[key]}`);
}

// pattern-matching style; safer for production code
switch (getBatchResponse.type) {
case CacheGetBatchResponse.Success: {
const values = getBatchResponse.values();
for (const key of keys) {
console.log(`Retrieved value for key '${key}': ${values[key]}`);
}
break;
}
case CacheGetBatchResponse.Error:
throw new Error(
`An error occurred while attempting to batch get in cache '${cacheName}': ${getBatchResponse.errorCode()}: ${getBatchResponse.toString()}`
);
}
}

export async function example_API_Delete(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.delete(cacheName, 'test-key');
switch (result.type) {
case CacheDeleteResponse.Success:
console.log("Key 'test-key' deleted successfully");
break;
case CacheDeleteResponse.Error:
throw new Error(
`An error occurred while attempting to delete key 'test-key' from cache '${cacheName}': ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_Increment(cacheClient: CacheClient, cacheName: string) {
await cacheClient.set(cacheName, 'test-key', '10');
const result = await cacheClient.increment(cacheName, 'test-key', 1);
switch (result.type) {
case CacheIncrementResponse.Success:
console.log(`Key 'test-key' incremented successfully. New value in key test-key: ${result.valueNumber()}`);
break;
case CacheIncrementResponse.Error:
throw new Error(
`An error occurred while attempting to increment the value of key 'test-key' from cache '${cacheName}': ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_ItemGetType(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.itemGetType(cacheName, 'test-key');
switch (result.type) {
case CacheItemGetTypeResponse.Hit:
console.log(`Item type retrieved successfully: ${ItemType[result.itemType()]}`);
break;
case CacheItemGetTypeResponse.Miss:
console.log("Key 'test-key' was not found in cache '${cacheName}'");
break;
case CacheItemGetTypeResponse.Error:
throw new Error(
`An error occurred while attempting to get the type of key 'test-key' from cache '${cacheName}': ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_KeyExists(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.keyExists(cacheName, 'test-key');
switch (result.type) {
case CacheKeyExistsResponse.Success:
console.log("Does 'test-key' exist in the cache?", result.exists());
break;
case CacheKeyExistsResponse.Error:
throw new Error(
`An error occurred while attempting to call keyExists on key 'test-key' in cache '${cacheName}': ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_KeysExist(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.keysExist(cacheName, ['test-key1', 'test-key2']);
switch (result.type) {
case CacheKeysExistResponse.Success:
console.log("Do 'test-key1' and 'test-key2' exist in the cache?", result.exists());
break;
case CacheKeysExistResponse.Error:
throw new Error(
`An error occurred while attempting to call keysExist on keys 'test-key1' and 'test-key2' in cache '${cacheName}': ${result.errorCode()}: ${result.toString()}`
);
}
}

// ----------------------------------------------------------------------------------------------
// Check-and-set (CAS) family

export async function example_API_SetIfAbsent(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.setIfAbsent(cacheName, 'test-key', 'test-field');
switch (result.type) {
case CacheSetIfAbsentResponse.Stored:
console.log("Field 'test-field' set in key 'test-key'");
break;
case CacheSetIfAbsentResponse.NotStored:
console.log(`Key 'test-key' already exists in cache ${cacheName}, so we did not overwrite it`);
break;
case CacheSetIfAbsentResponse.Error:
throw new Error(
`An error occurred while attempting to call setIfAbsent for the key 'test-key' in cache cacheName: ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_SetIfPresent(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.setIfPresent(cacheName, 'test-key', 'test-field');
switch (result.type) {
case CacheSetIfPresentResponse.Stored:
console.log("Field 'test-field' set in key 'test-key'");
break;
case CacheSetIfPresentResponse.NotStored:
console.log(`Key 'test-key' does not exist in cache ${cacheName}, so we did not set the field`);
break;
case CacheSetIfPresentResponse.Error:
throw new Error(
`An error occurred while attempting to call setIfPresent for the key 'test-key' in cache cacheName: ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_SetIfEqual(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.setIfEqual(cacheName, 'test-key', 'test-field', 'value-to-check');
switch (result.type) {
case CacheSetIfEqualResponse.Stored:
console.log("Field 'test-field' set in key 'test-key'");
break;
case CacheSetIfEqualResponse.NotStored:
console.log("Value of key 'test-key' does not equal 'value-to-check', so we did not set the field");
break;
case CacheSetIfEqualResponse.Error:
throw new Error(
`An error occurred while attempting to call setIfEqual for the key 'test-key' in cache cacheName: ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_SetIfNotEqual(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.setIfNotEqual(cacheName, 'test-key', 'test-field', 'value-to-check');
switch (result.type) {
case CacheSetIfNotEqualResponse.Stored:
console.log("Field 'test-field' set in key 'test-key'");
break;
case CacheSetIfNotEqualResponse.NotStored:
console.log("Value of key 'test-key' equals 'value-to-check', so we did not set the field");
break;
case CacheSetIfNotEqualResponse.Error:
throw new Error(
`An error occurred while attempting to call setIfNotEqual for the key 'test-key' in cache cacheName: ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_SetIfPresentAndNotEqual(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.setIfPresentAndNotEqual(cacheName, 'test-key', 'test-field', 'value-to-check');
switch (result.type) {
case CacheSetIfPresentAndNotEqualResponse.Stored:
console.log("Field 'test-field' set in key 'test-key'");
break;
case CacheSetIfPresentAndNotEqualResponse.NotStored:
console.log(
`Key 'test-key' does not exist in cache ${cacheName} or equals 'value-to-check', so we did not set the field`
);
break;
case CacheSetIfPresentAndNotEqualResponse.Error:
throw new Error(
`An error occurred while attempting to call setIfPresentAndNotEqual for the key 'test-key' in cache cacheName: ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_SetIfAbsentOrEqual(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.setIfAbsentOrEqual(cacheName, 'test-key', 'test-field', 'value-to-check');
switch (result.type) {
case CacheSetIfAbsentOrEqualResponse.Stored:
console.log("Field 'test-field' set in key 'test-key'");
break;
case CacheSetIfAbsentOrEqualResponse.NotStored:
console.log(
`Key 'test-key' exists in cache ${cacheName} and is not equal to 'value-to-check', so we did not set the field`
);
break;
case CacheSetIfAbsentOrEqualResponse.Error:
throw new Error(
`An error occurred while attempting to call setIfAbsentOrEqual for the key 'test-key' in cache cacheName: ${result.errorCode()}: ${result.toString()}`
);
}
}

// ----------------------------------------------------------------------------------------------
// TTL API — JS equivalents of the Go samples in the reference (NOT verbatim: the reference only has
// Go code for these). They follow the shape of the Go samples: call, switch on the response,
// log on success/miss, fail on error. The JS SDK takes TTLs in milliseconds.

export async function example_API_UpdateTtl(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.updateTtl(cacheName, 'key', 30000);
switch (result.type) {
case CacheUpdateTtlResponse.Set:
console.log('Successfully updated TTL for key');
break;
case CacheUpdateTtlResponse.Miss:
console.log('Key does not exist in cache');
break;
case CacheUpdateTtlResponse.Error:
throw new Error(
`An error occurred while attempting to call updateTtl for the key 'key' in cache ${cacheName}: ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_IncreaseTtl(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.increaseTtl(cacheName, 'key', 120000);
switch (result.type) {
case CacheIncreaseTtlResponse.Set:
console.log('Successfully increased TTL for key');
break;
case CacheIncreaseTtlResponse.NotSet:
console.log('TTL for key was not increased');
break;
case CacheIncreaseTtlResponse.Miss:
console.log('Key does not exist in cache');
break;
case CacheIncreaseTtlResponse.Error:
throw new Error(
`An error occurred while attempting to call increaseTtl for the key 'key' in cache ${cacheName}: ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_DecreaseTtl(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.decreaseTtl(cacheName, 'key', 10000);
switch (result.type) {
case CacheDecreaseTtlResponse.Set:
console.log('Successfully decreased TTL for key');
break;
case CacheDecreaseTtlResponse.NotSet:
console.log('TTL for key was not decreased');
break;
case CacheDecreaseTtlResponse.Miss:
console.log('Key does not exist in cache');
break;
case CacheDecreaseTtlResponse.Error:
throw new Error(
`An error occurred while attempting to call decreaseTtl for the key 'key' in cache ${cacheName}: ${result.errorCode()}: ${result.toString()}`
);
}
}

export async function example_API_ItemGetTtl(cacheClient: CacheClient, cacheName: string) {
const result = await cacheClient.itemGetTtl(cacheName, 'key');
switch (result.type) {
case CacheItemGetTtlResponse.Hit:
console.log(`TTL for key is ${result.remainingTtlMillis()}`);
break;
case CacheItemGetTtlResponse.Miss:
console.log('Key does not exist in cache');
break;
case CacheItemGetTtlResponse.Error:
throw new Error(
`An error occurred while attempting to call itemGetTtl for the key 'key' in cache ${cacheName}: ${result.errorCode()}: ${result.toString()}`
);
}
}
