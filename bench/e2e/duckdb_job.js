// The batch job a DuckDB user would write for the Pinterest pipeline, for the side-by-side
// bench: read the raw S3-sink JSON, clean (SPEC section 3), dedup on ind, join, write the
// three tables as snappy Parquet, and compute the eleven views.
// Usage: NODE_PATH=.tools/node/node_modules node bench/e2e/duckdb_job.js RAW_DIR OUT_DIR [ID]
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');

const [raw, out, id = 'pinterest'] = process.argv.slice(2);
const nul = (c, extra = []) =>
  `CASE WHEN ${c} = '' ${extra.map(v => `OR ${c} = '${v.replace(/'/g, "''")}'`).join(' ')} THEN NULL ELSE ${c} END`;
const ts = c => `CAST(replace(${c}, 'T', ' ') AS TIMESTAMP)`;

(async () => {
  fs.mkdirSync(out, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const src = t => `read_json('${raw}/topics/${id}.${t}/*/*.json', format='newline_delimited', ignore_errors=true, columns=`;
  await c.run(`CREATE TABLE pin AS SELECT DISTINCT ON (ind) * FROM (SELECT
      "index" AS ind, ${nul('unique_id')} AS unique_id,
      ${nul('title', ['No Title Data Available'])} AS title,
      ${nul('description', ['No description available Story format', 'No description available', 'Untitled'])} AS description,
      CASE WHEN regexp_full_match(follower_count, '[0-9]+[kM]?')
           THEN CAST(regexp_extract(follower_count, '[0-9]+') AS BIGINT) *
                CASE WHEN follower_count LIKE '%k' THEN 1000 WHEN follower_count LIKE '%M' THEN 1000000 ELSE 1 END
      END AS follower_count,
      ${nul('poster_name', ['User Info Error'])} AS poster_name,
      ${nul('tag_list', ['N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e'])} AS tag_list,
      ${nul('is_image_or_video')} AS is_image_or_video,
      ${nul('image_src', ['Image src error.'])} AS image_src,
      regexp_replace(${nul('save_location')}, '^Local save in ', '') AS save_location,
      ${nul('category')} AS category
    FROM ${src('pin')}{"index":'BIGINT',unique_id:'VARCHAR',title:'VARCHAR',description:'VARCHAR',poster_name:'VARCHAR',follower_count:'VARCHAR',tag_list:'VARCHAR',is_image_or_video:'VARCHAR',image_src:'VARCHAR',downloaded:'BIGINT',save_location:'VARCHAR',category:'VARCHAR'}))
    WHERE ind IS NOT NULL`);
  await c.run(`CREATE TABLE geo AS SELECT DISTINCT ON (ind) ind, ${nul('country')} AS country,
      [latitude, longitude]::DOUBLE[] AS coordinates, ${ts('timestamp')} AS "timestamp"
    FROM ${src('geo')}{ind:'BIGINT',"timestamp":'VARCHAR',latitude:'DOUBLE',longitude:'DOUBLE',country:'VARCHAR'})
    WHERE ind IS NOT NULL`);
  await c.run(`CREATE TABLE "user" AS SELECT DISTINCT ON (ind) ind, first_name || ' ' || last_name AS user_name,
      age, ${ts('date_joined')} AS date_joined
    FROM ${src('user')}{ind:'BIGINT',first_name:'VARCHAR',last_name:'VARCHAR',age:'BIGINT',date_joined:'VARCHAR'})
    WHERE ind IS NOT NULL`);
  for (const t of ['pin', 'geo', 'user'])
    await c.run(`COPY "${t}" TO '${out}/${t}.parquet' (FORMAT parquet, COMPRESSION snappy)`);
  await c.run(`CREATE TABLE posts AS SELECT p.*, g.country, g.coordinates, g."timestamp", u.user_name, u.age, u.date_joined,
      CASE WHEN u.age BETWEEN 18 AND 24 THEN '18-24' WHEN u.age BETWEEN 25 AND 35 THEN '25-35'
           WHEN u.age BETWEEN 36 AND 50 THEN '36-50' WHEN u.age > 50 THEN '+50' END AS age_group,
      year(g."timestamp") AS post_year, year(u.date_joined) AS join_year
    FROM pin p JOIN geo g USING (ind) JOIN "user" u USING (ind)`);
  const top = (g, w = 'TRUE') => `SELECT ${g}, category, category_count FROM (SELECT ${g}, category, count(*) AS category_count,
      row_number() OVER (PARTITION BY ${g} ORDER BY count(*) DESC, category) AS rn FROM posts
      WHERE ${g} IS NOT NULL AND category IS NOT NULL AND ${w} GROUP BY ${g}, category) WHERE rn = 1 ORDER BY ${g}`;
  const views = {
    most_popular_category_by_country: top('country'),
    category_count_by_year: `SELECT post_year, category, count(*) AS category_count FROM posts
      WHERE post_year BETWEEN 2018 AND 2022 AND category IS NOT NULL GROUP BY ALL ORDER BY ALL`,
    most_popular_category_by_year: top('post_year', 'post_year BETWEEN 2018 AND 2022'),
    most_followed_user_by_country: `SELECT country, poster_name, follower_count FROM (SELECT country, poster_name, follower_count,
      row_number() OVER (PARTITION BY country ORDER BY follower_count DESC NULLS LAST, poster_name) AS rn
      FROM posts WHERE country IS NOT NULL) WHERE rn = 1 ORDER BY country`,
    country_with_most_followed_user: `SELECT country, follower_count FROM posts WHERE country IS NOT NULL
      ORDER BY follower_count DESC NULLS LAST, country LIMIT 1`,
    most_popular_category_by_age_group: top('age_group'),
    median_follower_count_by_age_group: `SELECT age_group, percentile_disc(0.5) WITHIN GROUP (ORDER BY follower_count)
      AS median_follower_count FROM posts WHERE age_group IS NOT NULL GROUP BY ALL ORDER BY ALL`,
    users_joined_by_year: `SELECT join_year AS post_year, count(*) AS number_users_joined FROM posts
      WHERE join_year BETWEEN 2015 AND 2020 GROUP BY ALL ORDER BY ALL`,
    median_follower_count_by_join_year: `SELECT join_year AS post_year, percentile_disc(0.5) WITHIN GROUP
      (ORDER BY follower_count) AS median_follower_count FROM posts WHERE join_year BETWEEN 2015 AND 2020 GROUP BY ALL ORDER BY ALL`,
    median_follower_count_by_age_group_and_join_year: `SELECT age_group, join_year AS post_year, percentile_disc(0.5)
      WITHIN GROUP (ORDER BY follower_count) AS median_follower_count FROM posts
      WHERE age_group IS NOT NULL AND join_year BETWEEN 2015 AND 2020 GROUP BY ALL ORDER BY ALL`,
    category_count_by_hour: `SELECT time_bucket(INTERVAL 1 HOUR, "timestamp") AS window_start, category,
      count(*) AS category_count FROM posts WHERE category IS NOT NULL GROUP BY ALL ORDER BY ALL`,
  };
  const summary = {};
  for (const [name, sql] of Object.entries(views)) {
    const r = await c.runAndReadAll(sql);
    summary[name] = r.getRows().length;
  }
  process.stdout.write(JSON.stringify(summary) + '\n');
})().catch(e => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(1); });
