// Package mapping evaluates the reference service's Data Mapping task
// (FieldMappingTask): a FieldMappingConfig of mappedFields rows, each a
// transform expression (an initial value and a left-to-right chain of typed
// mapping functions) whose result is written into a variable or into a
// path inside a JSON variable.
//
// Compile parses and checks a config once and returns an immutable Program;
// Program.Run applies its rows, top to bottom, against an execution's
// variables. The function catalogue (one table per type family: base,
// string, int, double, boolean, json and the four array families) follows
// Google's data mapping functions reference:
// https://cloud.google.com/application-integration/docs/data-mapping-functions-reference
// The choices made where that reference is silent are listed in
// docs/mapping.md, each with the test that pins it.
package mapping
