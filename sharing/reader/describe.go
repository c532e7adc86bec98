package reader

import (
	"context"
	"fmt"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// Description is what a table's metadata says about it: its version, identity, protocol,
// partitioning, properties and columns.
type Description struct {
	Table   protocol.Table
	Version int64
	// Format is the response format the server answered in (parquet or delta).
	Format           protocol.ResponseFormat
	ID               string
	Name             string
	Description      string
	MinReaderVersion int
	ReaderFeatures   []string
	// PartitionColumns are the partition columns in order; never nil.
	PartitionColumns []string
	Configuration    map[string]string
	// Size and NumFiles are the table's size in bytes and its number of files, when the
	// server says.
	Size     *int64
	NumFiles *int64
	// Columns are the schema's top-level columns in order; never nil.
	Columns []Column
}

// Column is a top-level column of a table's schema.
type Column struct {
	Name string
	// Type is the Delta type as Delta spells it: "long", "decimal(12,2)", "struct<a:int>".
	Type     string
	Nullable bool
}

// Describe reads the metadata of table t (at opts' version or time, else the latest) and
// describes the table.
func Describe(ctx context.Context, c *sharing.Client, t protocol.Table, opts protocol.MetadataOptions) (*Description, error) {
	md, err := c.Metadata(ctx, t, opts)
	if err != nil {
		return nil, err
	}
	schema, err := md.Metadata.Schema()
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t, err)
	}
	d := &Description{
		Table: t, Version: md.Version, Format: md.Format, ID: md.Metadata.ID,
		Name: md.Metadata.Name, Description: md.Metadata.Description,
		MinReaderVersion: md.Protocol.MinReaderVersion, ReaderFeatures: md.Protocol.ReaderFeatures,
		PartitionColumns: md.Metadata.PartitionColumns, Configuration: md.Metadata.Configuration,
		Size: md.Size, NumFiles: md.NumFiles, Columns: make([]Column, 0, len(schema.Fields)),
	}
	if d.PartitionColumns == nil {
		d.PartitionColumns = []string{}
	}
	for _, f := range schema.Fields {
		d.Columns = append(d.Columns, Column{Name: f.Name, Type: f.Type.String(), Nullable: f.Nullable})
	}
	return d, nil
}
