// Package jsonnetlib runs the Jsonnet templates of the Data Transformer
// Script task (JsonnetMapperTask) and provides its "functions" library.
//
// A template is compiled once ([Compile]: parse, desugar, static analysis
// and a scan for the variables it reads) and evaluated many times by an
// [Evaluator], which keeps a pool of go-jsonnet VMs. Integration variables
// reach a template through std.extVar / f.extVar; they are fetched lazily,
// only when the template asks for them. `import "functions"` resolves to
// integrationd's own library: the Jsonnet standard library plus Google's
// predefined Data Transformer functions, partly written in Jsonnet
// (functions.libsonnet) and partly in Go (native functions).
//
// The behaviour of every function, the date format dialect and the limits
// of the memory guard are documented in docs/jsonnet.md.
//
// Google's references:
// https://cloud.google.com/application-integration/docs/configure-data-transformer-script-task
// https://cloud.google.com/application-integration/docs/data-transformer-functions-reference
package jsonnetlib
