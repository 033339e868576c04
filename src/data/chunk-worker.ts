import { isUtf8 } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';
import { augmentTransform } from './augment.js';
import type { ChunkJob, ChunkReply, ChunkRequest } from './chunk-pool.js';
import { cleanTransform } from './clean.js';
import { formatCsvRow } from './csv-format.js';
import { parseRecords } from './csv-records.js';
import type { TextJob, TextTransform } from './text-transform.js';

/**
 * A worker thread of the data commands: parses each chunk of whole CSV records it is sent and answers with what
 * its job makes of them (see ChunkJob). A chunk outside the common case (see parseRecords), or a row the job
 * cannot take, is answered with { ok: false }: the main thread then runs the command in one thread from the start,
 * which words the error exactly as it always has.
 */

function transformOf(job: TextJob): TextTransform {
  return job.kind === 'clean' ? cleanTransform(job.recipe) : augmentTransform(job, job.seed);
}

const job = workerData as ChunkJob;
const transform = job.kind === 'map' ? transformOf(job.text) : undefined;

const utf8 = new TextEncoder();

function run(req: ChunkRequest): ChunkReply {
  // Not UTF-8: the one-thread reading says where (a chunk ends at a line end, so no character is cut in two).
  if (!isUtf8(req.bytes)) return { id: req.id, ok: false };
  const records = parseRecords(Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.length).toString('utf8'), job.rd, req.firstLine, job.maxRecordBytes);
  if (records === null || records.length !== req.records) return { id: req.id, ok: false };
  const n = job.columns;
  switch (job.kind) {
    case 'map': {
      let text = '';
      let rowsIn = 0;
      let rowsOut = 0;
      const badRows: [number, number][] = [];
      for (let i = 0; i < records.length; i++) {
        const { fields, line } = records[i];
        if (fields.length !== n) {
          if (!job.skipBadRows) return { id: req.id, ok: false };
          badRows.push([line, fields.length]);
          continue;
        }
        rowsIn++;
        const value = transform!.map(fields[job.textIndex], req.firstRow + i);
        if (value === null) continue;
        if (job.outIndex < n) fields[job.outIndex] = value;
        else fields.push(value);
        text += formatCsvRow(fields);
        rowsOut++;
      }
      return { id: req.id, ok: true, out: utf8.encode(text), rowsIn, rowsOut, badRows, counts: transform!.counts() };
    }
    case 'column': {
      const values: string[] = [];
      for (const { fields } of records) {
        if (fields.length !== n) return { id: req.id, ok: false };
        if (job.index >= 0) values.push(fields[job.index]);
      }
      return { id: req.id, ok: true, values };
    }
    case 'route': {
      const parts = req.parts!;
      const texts = Array.from({ length: job.outputs }, () => '');
      const rowsPerOutput = new Array<number>(job.outputs).fill(0);
      for (let i = 0; i < records.length; i++) {
        if (records[i].fields.length !== n) return { id: req.id, ok: false };
        texts[parts[i]] += formatCsvRow(records[i].fields);
        rowsPerOutput[parts[i]]++;
      }
      return { id: req.id, ok: true, outs: texts.map((t) => utf8.encode(t)), rowsPerOutput };
    }
  }
}

parentPort!.on('message', (req: ChunkRequest) => {
  let reply: ChunkReply;
  try {
    reply = run(req);
  } catch {
    reply = { id: req.id, ok: false }; // the one-thread rerun raises it again, worded
  }
  // the output bytes move to the main thread, not copied
  parentPort!.postMessage(reply, [reply.out, ...(reply.outs ?? [])].flatMap((o) => (o ? [o.buffer as ArrayBuffer] : [])));
});
