// Package cosmos is the Azure Cosmos DB REST surface: the subset of the
// NoSQL API that the @azure/cosmos SDK calls for databases, containers,
// documents, partition key ranges and the pull-model change feed (see
// ../shared/protocols/cosmos-change-feed-rest.md). It verifies master-key
// signatures, parses the wire headers, renders Cosmos resources with their
// system properties and maps errors to the service's JSON error bodies.
//
// It holds no data: everything it needs from Setsuna is the Backend
// interface, which knows nothing of HTTP or Cosmos wire formats. The
// mapping onto Setsuna is:
//
//   - a database is a catalog entry (Backend's choice of where);
//   - a container is a Setsuna cache with one partition per
//     10,000 RU/s of x-ms-offer-throughput (at least one); the surface
//     keeps its definition, _rid and policies as an opaque attribute.
//     Suggested cache name: "<database>/<container>" ("/" is not allowed
//     in Cosmos ids, so the name is unambiguous);
//   - a document is an item of that cache whose key is chosen by the
//     backend from DocKey (the partition key's EPK places it in the
//     partition that owns the EPK; suggested key: the JSON array of the
//     partition-key values followed by the id, e.g. ["p1","a1"]) and whose
//     value is the document's JSON as the client sent it, without system
//     properties; _etag, _ts, _rid and _self are derived from the item's
//     LSN, commit time and key, so other surfaces see the plain document;
//   - a physical partition key range is a cache partition, its id the
//     partition index, and the change feed etag of a range is the
//     partition's LSN.
//
// Items written by another surface are shown as documents: a JSON object
// value as it is (with "id" filled in from the key when missing), any
// other value as {"id": key, "value": "<text>"} or {"id": key,
// "valueBase64": "<bytes>"}.
package cosmos
