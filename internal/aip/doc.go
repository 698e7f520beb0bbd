// Package aip implements the parts of Google's API Improvement Proposals that
// list and update methods share:
//
//   - filters (AIP-160, https://google.aip.dev/160): Parse builds an AST that
//     callers translate to SQL (Conjuncts) or evaluate in memory (Eval);
//   - page tokens and sizes (AIP-158, https://google.aip.dev/158): opaque
//     tokens bound to the request by a checksum;
//   - update masks (AIP-134, https://google.aip.dev/134): ParseMask.
//
// User errors are *rpc.Error INVALID_ARGUMENT values naming the request
// field ("filter", "page_token", "page_size").
package aip
