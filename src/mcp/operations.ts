/**
 * Every GraphQL operation the MCP server sends. A test validates each one against the committed
 * schema.graphql, so an API change that would break the chatbot fails the tests.
 */
const MOVIE_FIELDS = 'id title year genres posterUrl';
const SCORE_FIELDS = 'genre probability predicted threshold';
const SUPPORT_FIELDS = 'k support { genre neighbours }';

export const PREDICT_GENRES = `
  query McpPredictGenres($poster: PosterInput!, $movieId: ID, $withMovie: Boolean!) {
    predictGenres(poster: $poster) {
      modelVersion genres { ${SCORE_FIELDS} }
      evidence(k: 10) { ${SUPPORT_FIELDS} neighbours { similarity genres movie { id title year } } }
    }
    movie(id: $movieId) @include(if: $withMovie) { ${MOVIE_FIELDS} }
  }`;

export const SIMILAR_POSTERS = `
  query McpSimilarPosters($poster: PosterInput!, $k: Int, $filter: MovieFilter) {
    similarPosters(poster: $poster, k: $k, filter: $filter) { score movie { ${MOVIE_FIELDS} } }
  }`;

export const RECOMMEND_MOVIES = `
  query McpRecommendMovies($userId: String, $liked: [ID!], $disliked: [ID!], $k: Int, $filter: MovieFilter) {
    recommendations(userId: $userId, liked: $liked, disliked: $disliked, k: $k, filter: $filter) {
      score reason movie { ${MOVIE_FIELDS} } because { id title year }
    }
  }`;

export const ALSO_LIKED = `
  query McpAlsoLiked($id: ID!, $k: Int) {
    movie(id: $id) { ${MOVIE_FIELDS} alsoLiked(k: $k) { score people movie { ${MOVIE_FIELDS} } } }
  }`;

export const SEARCH_MOVIES = `
  query McpSearchMovies($filter: MovieFilter, $first: Int, $after: String) {
    movies(filter: $filter, first: $first, after: $after) {
      totalCount edges { node { ${MOVIE_FIELDS} } } pageInfo { hasNextPage endCursor }
    }
  }`;

export const GET_MOVIE = `
  query McpGetMovie($id: ID, $imdbId: String, $similar: Int) {
    movie(id: $id, imdbId: $imdbId) {
      ${MOVIE_FIELDS} imdbId ageRating runtimeMinutes storyline rawGenres
      predictedGenres { ${SCORE_FIELDS} }
      genreEvidence(k: 10) { ${SUPPORT_FIELDS} }
      similar(k: $similar) { score movie { id title year genres } }
    }
  }`;

export const MCP_OPERATIONS = { PREDICT_GENRES, SIMILAR_POSTERS, RECOMMEND_MOVIES, ALSO_LIKED, SEARCH_MOVIES, GET_MOVIE };
