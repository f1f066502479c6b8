"""The one place with SQL written by hand; every other read and write goes through the ORM.

Each module here is SQL written from the models' names (a renamed table or column still
reaches it), kept because a benchmark shows the ORM costs far more on that path:

- `checklog` — the check log's INSERT and COPY and the decision's small lookups. `bench/load.py`:
  a check keeps 50-70% of a bare view's throughput at about 3.5 ms of CPU, where the ORM spent
  about 0.45 ms building each small statement; `bench/bulk.py`: a 50,000-row file in about
  2.4-2.7 s, at least 30x an ORM loop.
- `registry` — `import_companies` on PostgreSQL: COPY into a temporary staging table, then
  set-based INSERT … ON CONFLICT statements. `bench/import_companies.py`, 1,000,000 rows:
  28-35 s for a first import and 17-24 s for a re-import that changes nothing, with the memory
  flat (75-87 MB), where the ORM batches took 100-152 s and 71 s; the floor measured in the
  same runs (a bare COPY of the file with an index, plus validating its Tax IDs) was 6-9 s.
"""
