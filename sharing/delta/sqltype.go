package delta

import "strings"

// SQLType spells a Delta type as Spark SQL does in DDL: BIGINT, DECIMAL(12,2), TIMESTAMP_NTZ,
// ARRAY<STRING>, MAP<STRING, INT>, STRUCT<`a`: INT NOT NULL>. Nested field names are quoted
// with QuoteIdent; a nested field that is not nullable says NOT NULL (Spark SQL has no syntax
// for non-null array elements or map values: those are left out). A field's "comment"
// metadata becomes COMMENT.
func SQLType(t DataType) string {
	var b strings.Builder
	writeSQLType(&b, t)
	return b.String()
}

var sqlPrimitives = map[string]string{
	TypeString: "STRING", TypeLong: "BIGINT", TypeInteger: "INT", TypeShort: "SMALLINT",
	TypeByte: "TINYINT", TypeFloat: "FLOAT", TypeDouble: "DOUBLE", TypeBoolean: "BOOLEAN",
	TypeBinary: "BINARY", TypeDate: "DATE", TypeTimestamp: "TIMESTAMP",
	TypeTimestampNTZ: "TIMESTAMP_NTZ", TypeVoid: "VOID", TypeVariant: "VARIANT",
}

func writeSQLType(b *strings.Builder, t DataType) {
	switch t := t.(type) {
	case *PrimitiveType:
		if s, ok := sqlPrimitives[t.Name]; ok {
			b.WriteString(s)
		} else {
			b.WriteString(strings.ToUpper(t.Name))
		}
	case *DecimalType:
		b.WriteString(strings.ToUpper(t.String()))
	case *ArrayType:
		b.WriteString("ARRAY<")
		writeSQLType(b, t.ElementType)
		b.WriteByte('>')
	case *MapType:
		b.WriteString("MAP<")
		writeSQLType(b, t.KeyType)
		b.WriteString(", ")
		writeSQLType(b, t.ValueType)
		b.WriteByte('>')
	case *StructType:
		b.WriteString("STRUCT<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(QuoteIdent(f.Name))
			b.WriteString(": ")
			writeSQLType(b, f.Type)
			b.WriteString(SQLFieldSuffix(f))
		}
		b.WriteByte('>')
	default:
		b.WriteString("?")
	}
}

// SQLFieldSuffix is what follows a field's type in Spark SQL DDL: " NOT NULL" when it is not
// nullable, then " COMMENT '...'" when its metadata has a comment.
func SQLFieldSuffix(f *StructField) string {
	var s string
	if !f.Nullable {
		s = " NOT NULL"
	}
	if c, ok := f.Metadata["comment"].(string); ok && c != "" {
		s += " COMMENT " + QuoteString(c)
	}
	return s
}

// QuoteIdent quotes a Spark SQL identifier with backticks (a backtick inside is doubled).
func QuoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// QuoteString quotes a Spark SQL string literal with single quotes (a quote or backslash
// inside is escaped with a backslash).
func QuoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return "'" + r.Replace(s) + "'"
}
