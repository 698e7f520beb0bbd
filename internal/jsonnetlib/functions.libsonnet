// The "functions" library of integrationd's Data Transformer Script task
// (JsonnetMapperTask): `local f = import "functions";`.
//
// f is the whole Jsonnet standard library plus the predefined Data
// Transformer functions of Google's Application Integration
// (https://cloud.google.com/application-integration/docs/data-transformer-functions-reference).
// Several of those are already part of std (avg, contains, maxArray,
// minArray, remove, sum, xnor, xor, sha1, sha256, sha512, sha3,
// objectRemoveKey, isDecimal, isEven, isInteger, isOdd, round,
// equalsIgnoreCase, isEmpty, trim) and are inherited unchanged. What Jsonnet
// cannot express is implemented in Go and reached through
// std.native('integrationd.<name>'). docs/jsonnet.md documents every
// function.
local native(name) = std.native('integrationd.' + name);

// keyString is the object key groupBy uses for a grouping value.
local keyString(k) = if std.isString(k) then k else std.toString(k);

// transpose is zip and unzip: element i of the result holds element i of
// every input array, null where an array is shorter than the longest.
local transpose(fn, arrays) =
  assert std.isArray(arrays) : fn + ': expects an array of arrays, got ' + std.type(arrays);
  assert std.all([std.isArray(a) for a in arrays]) : fn + ': every element must be an array';
  local n = std.foldl(function(m, a) std.max(m, std.length(a)), arrays, 0);
  [
    [if i < std.length(a) then a[i] else null for a in arrays]
    for i in std.range(0, n - 1)
  ];

std {
  // Variables: the same as std.extVar.
  extVar(x):: std.extVar(x),

  // Array functions.
  removeAt(arr, index)::
    assert std.isArray(arr) : 'removeAt: arr must be an array, got ' + std.type(arr);
    assert std.isNumber(index) && index == std.floor(index) : 'removeAt: index must be an integer';
    if index < 0 || index >= std.length(arr) then
      error 'removeAt: index %d is out of range for an array of length %d' % [index, std.length(arr)]
    else
      std.removeAt(arr, index),

  groupBy(array, func)::
    assert std.isArray(array) : 'groupBy: array must be an array, got ' + std.type(array);
    assert std.isFunction(func) : 'groupBy: the second argument must be a function, got ' + std.type(func);
    // A stable sort by key keeps each group in input order.
    local keyed = std.sort([{ k: keyString(func(e)), v: e } for e in array], function(p) p.k);
    local n = std.length(keyed);
    // Group runs of equal keys; comprehensions, not slices: std.slice
    // recurses once per element.
    local starts = [i for i in std.range(0, n - 1) if i == 0 || keyed[i].k != keyed[i - 1].k];
    local ends = [starts[j] for j in std.range(1, std.length(starts) - 1)] + [n];
    {
      [keyed[starts[j]].k]: [keyed[i].v for i in std.range(starts[j], ends[j] - 1)]
      for j in std.range(0, std.length(starts) - 1)
    },

  zip(arrays):: transpose('zip', arrays),
  unzip(array):: transpose('unzip', array),

  // XML, CSV and JSON functions.
  manifestXml(json, format='badgerfish', indent_output=false)::
    native('manifestXml')(json, format, indent_output),
  parseXml(xml, format='badgerfish')::
    native('parseXml')(xml, format),
  parseCsvWithHeader(input, delimiter=',', overwrite_duplicate_headers=true)::
    native('parseCsvWithHeader')(input, delimiter, overwrite_duplicate_headers),
  manifestCsv(json, headers=null)::
    native('manifestCsv')(json, headers),

  // Mathematical functions.
  randomNumber(lowerBound, upperBound)::
    native('randomNumber')(lowerBound, upperBound),

  // String functions.
  match(str, regexp)::
    native('match')(str, regexp),

  // Timestamp functions.
  dateFormat(timestamp, format_string, timezone='UTC', current_format='')::
    native('dateFormat')(timestamp, format_string, timezone, current_format),
  isLeapYear(year)::
    assert std.isNumber(year) && year == std.floor(year) : 'isLeapYear: year must be an integer';
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0,
  nowInMillis():: native('nowInMillis')(),

  // Utility functions.
  uuid():: native('uuid')(),
  getExecutionId():: native('getExecutionId')(),
  getIntegrationName():: native('getIntegrationName')(),
  getIntegrationRegion():: native('getIntegrationRegion')(),
  getIntegrationVersionId():: native('getIntegrationVersionId')(),
  getIntegrationVersionNumber():: native('getIntegrationVersionNumber')(),
  getProjectId():: native('getProjectId')(),
}
