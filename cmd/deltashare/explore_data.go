package main

// The explore commands that look at a table's data rather than its listing: head.go,
// schema.go and count.go (after discovery.go's, so help lists them after files).

func init() {
	commandSet = append(commandSet, headCommand, schemaCommand, countCommand)
}
