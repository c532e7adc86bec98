package reader

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// Schema is a table's schema as its metadata gives it and as a read returns it: the columns
// with their Delta, Spark SQL and Arrow types, nullability and partitioning.
type Schema struct {
	Table   protocol.Table
	Version int64
	// Comment is the table's description.
	Comment string
	// Columns are the top-level columns in order; never nil.
	Columns []SchemaColumn
	// PartitionColumns are the partition columns in order; never nil.
	PartitionColumns []string
	// Delta is the schema itself.
	Delta *delta.StructType
	// Arrow is the schema of the records a read of every column returns.
	Arrow *arrow.Schema
}

// SchemaColumn is a top-level column of a table.
type SchemaColumn struct {
	Name string
	// Type is the Delta type as Delta spells it ("long", "decimal(12,2)", "struct<a:int>").
	Type string
	// SQLType is the type in Spark SQL ("BIGINT", "DECIMAL(12,2)", "STRUCT<`a`: INT>").
	SQLType string
	// ArrowType is the Arrow type of its values in a read ("int64", "decimal(12, 2)").
	ArrowType string
	Nullable  bool
	// Partition is the column's position among the partition columns, from 1; 0 when the
	// table is not partitioned by it.
	Partition int
	// Comment is the column's comment (its "comment" metadata).
	Comment string
}

// ReadSchema reads the metadata of table t (at opts' version or time, else the latest) and
// returns its schema.
func ReadSchema(ctx context.Context, c *sharing.Client, t protocol.Table, opts protocol.MetadataOptions) (*Schema, error) {
	md, err := c.Metadata(ctx, t, opts)
	if err != nil {
		return nil, err
	}
	return newSchema(t, md.Version, &md.Metadata)
}

func newSchema(t protocol.Table, version int64, m *delta.Metadata) (*Schema, error) {
	st, err := m.Schema()
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t, err)
	}
	as, err := ArrowSchema(st, ArrowOptions{})
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t, err)
	}
	s := &Schema{Table: t, Version: version, Comment: m.Description, Delta: st, Arrow: as,
		Columns: make([]SchemaColumn, 0, len(st.Fields)), PartitionColumns: append([]string{}, m.PartitionColumns...)}
	for i, f := range st.Fields {
		col := SchemaColumn{Name: f.Name, Type: f.Type.String(), SQLType: delta.SQLType(f.Type),
			ArrowType: as.Field(i).Type.String(), Nullable: f.Nullable}
		col.Comment, _ = f.Metadata["comment"].(string)
		for k, p := range s.PartitionColumns {
			if strings.EqualFold(p, f.Name) {
				col.Partition = k + 1
			}
		}
		s.Columns = append(s.Columns, col)
	}
	return s, nil
}

// DDL is a Spark SQL CREATE TABLE statement of the table: its name, columns (NOT NULL and
// comments included), USING DELTA, PARTITIONED BY and the table's comment.
func (s *Schema) DDL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s.%s.%s (\n", delta.QuoteIdent(s.Table.Share), delta.QuoteIdent(s.Table.Schema), delta.QuoteIdent(s.Table.Name))
	for i, f := range s.Delta.Fields {
		fmt.Fprintf(&b, "  %s %s%s", delta.QuoteIdent(f.Name), delta.SQLType(f.Type), delta.SQLFieldSuffix(f))
		if i < len(s.Delta.Fields)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(")\nUSING DELTA")
	if len(s.PartitionColumns) > 0 {
		quoted := make([]string, len(s.PartitionColumns))
		for i, p := range s.PartitionColumns {
			quoted[i] = delta.QuoteIdent(p)
		}
		fmt.Fprintf(&b, "\nPARTITIONED BY (%s)", strings.Join(quoted, ", "))
	}
	if s.Comment != "" {
		fmt.Fprintf(&b, "\nCOMMENT %s", delta.QuoteString(s.Comment))
	}
	b.WriteString(";\n")
	return b.String()
}
