// The DuckDB side of the Parquet lines of `make bench`: every Parquet file under a folder
// written to one Parquet file with the codec our export uses (the shared anchor always writes
// zstd), timed around the COPY only (after a count has read the footers), printed in the
// anchor's line format:
//   duckdb parquet rows=<n> seconds=<s> rows_per_s=<r> out_bytes=<b>
import { DuckDBInstance } from '@duckdb/node-api';
import { statSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [dir, out, codec] = process.argv.slice(2);
if (!dir || !out || !/^(snappy|zstd|gzip|uncompressed)$/.test(codec ?? '')) {
  console.error('usage: node duckdb-parquet.mjs PARQUET_DIR OUT_DIR snappy|zstd|gzip|uncompressed');
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const con = await (await DuckDBInstance.create(':memory:')).connect();
const src = `read_parquet('${join(dir, '**', '*.parquet')}')`;
const rows = Number((await (await con.run(`SELECT count(*) FROM ${src}`)).getRows())[0][0]);
const file = join(out, 'out.parquet');
const t0 = process.hrtime.bigint();
await con.run(`COPY (SELECT * FROM ${src}) TO '${file}' (FORMAT parquet, COMPRESSION ${codec})`);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`duckdb parquet rows=${rows} seconds=${s.toFixed(3)} rows_per_s=${Math.round(rows / s)} out_bytes=${statSync(file).size}`);
