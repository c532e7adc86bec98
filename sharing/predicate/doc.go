// Package predicate is deltashare's filter language: the Delta Sharing protocol's JSON
// predicates (jsonPredicateHints) and the CLI's --where syntax that produces them.
//
// The life of a filter:
//
//	e, err := predicate.Parse("date >= '2021-01-01' AND country IN ('DE', 'FR')") // --where text
//	e, err = predicate.Bind(e, schema)            // resolve columns, type and check literals
//	hints := predicate.Hints(e)                   // what a server may use (nil: nothing)
//	body, _ := json.Marshal(hints)                // the protocol's JSON form
//	...
//	rec, err := predicate.Filter(e, batch)        // reader: exact rows, SQL null semantics
//
// A server reads hints with ParseJSON and skips data files with MightMatch, from the files'
// partition values and statistics (ParseStats). Skipping is conservative: a file is only
// skipped when no row in it can satisfy the predicate; anything unknown keeps the file.
//
// The package also holds the value parsers Delta partition values and statistics need
// (ParseDate, ParseTimestamp, ParseDecimal) so that the sharing package and the server read
// them alike.
package predicate
