// The DuckDB side of the point-read line of `make bench`: the rows of every Parquet file under a
// folder that match a filter, written as CSV, timed around the COPY only (after a count of the
// same rows has read the footers), printed in the anchor's line format:
//   duckdb csv rows=<n> seconds=<s> rows_per_s=<r> out_bytes=<b>
import { DuckDBInstance } from '@duckdb/node-api';
import { statSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [dir, out, where] = process.argv.slice(2);
if (!dir || !out || !where) { console.error('usage: node duckdb-query.mjs PARQUET_DIR OUT_DIR WHERE'); process.exit(2); }
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const con = await (await DuckDBInstance.create(':memory:')).connect();
const src = `read_parquet('${join(dir, '**', '*.parquet')}')`;
const rows = Number((await (await con.run(`SELECT count(*) FROM ${src} WHERE ${where}`)).getRows())[0][0]);
const file = join(out, 'out.csv');
const t0 = process.hrtime.bigint();
await con.run(`COPY (SELECT * FROM ${src} WHERE ${where}) TO '${file}' (HEADER)`);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`duckdb csv rows=${rows} seconds=${s.toFixed(4)} rows_per_s=${Math.round(rows / s)} out_bytes=${statSync(file).size}`);
