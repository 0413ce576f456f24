import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { MovieFilter } from '../gql/graphql';
import { useTaste } from './taste';

export const Recommendations = graphql(`
  query Recommendations($liked: [ID!]!, $disliked: [ID!], $k: Int, $filter: MovieFilter) {
    recommendations(liked: $liked, disliked: $disliked, k: $k, filter: $filter) {
      score
      reason
      movie {
        ...MovieCard
      }
      because {
        id
        title
        year
      }
    }
  }
`);

/** Live recommendations for the taste profile: they follow every like and dislike. */
export function useRecommendations(k: number, filter?: MovieFilter) {
  const { liked, disliked } = useTaste();
  const [result, reexecute] = useQuery({
    query: Recommendations,
    variables: { liked: liked.map((m) => m.id), disliked: disliked.map((m) => m.id), k, filter },
    pause: liked.length === 0,
  });
  return { result, reexecute, hasProfile: liked.length > 0 };
}
