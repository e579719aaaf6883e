// The collection and the queries of the live-query benchmark, shared by server and load generator.

export const GROUPS = 20

/** A record of `items`: its group never changes; score, status and tags are what writes change. */
export function itemDoc(i, random = Math.random, ts = 0) {
  return {
    group: i % GROUPS,
    score: Math.floor(random() * 1000),
    status: random() < 0.5 ? 'open' : 'closed',
    tags: random() < 0.3 ? ['x', 'y'] : ['y'],
    title: `item ${i}`,
    ts,
  }
}

/** 100 distinct queries: 5 shapes for each of 20 groups (each write of a group concerns its 5). */
export function distinctQueries() {
  const out = []
  for (let g = 0; g < GROUPS; g++) {
    out.push(
      { c: 'items', w: [['group', '==', g]], o: [['score', 'desc']], l: 20 },
      {
        c: 'items',
        w: [
          ['group', '==', g],
          ['status', '==', 'open'],
        ],
        o: [['score', 'desc']],
        l: 20,
      },
      { c: 'items', w: [['group', '==', g]], o: [['score', 'asc']], l: 10 },
      {
        c: 'items',
        w: [
          ['group', '==', g],
          ['score', '>', 500],
        ],
        o: [['score', 'asc']],
        l: 20,
      },
      {
        c: 'items',
        w: [
          ['group', '==', g],
          ['tags', 'array-contains', 'x'],
        ],
        o: [['score', 'desc']],
        l: 20,
      },
    )
  }
  return out
}

/** First load: 1,000 rows out of the whole collection, served by the [status, score] index. */
export const FIRST_LOAD_QUERY = { where: [['status', '==', 'open']], orderBy: [['score', 'desc']], limit: 1000 }
