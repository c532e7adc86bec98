// Package deps pins the module's chosen dependencies while the packages that use them are being
// written, so that go.mod and go.sum stay complete for every branch. It is removed once real
// imports cover them.
package deps

import (
	_ "github.com/RoaringBitmap/roaring/v2"
	_ "github.com/apache/arrow/go/v17/arrow"
	_ "github.com/apache/arrow/go/v17/arrow/array"
	_ "github.com/apache/arrow/go/v17/arrow/decimal128"
	_ "github.com/apache/arrow/go/v17/arrow/memory"
	_ "github.com/apache/arrow/go/v17/parquet/file"
	_ "github.com/apache/arrow/go/v17/parquet/pqarrow"
	_ "github.com/databricks/databricks-sdk-go"
	_ "github.com/databricks/databricks-sdk-go/service/settings"
	_ "github.com/databricks/databricks-sdk-go/service/sharing"
	_ "github.com/klauspost/compress/gzip"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/parquet-go/parquet-go"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/oauth2/clientcredentials"
)
