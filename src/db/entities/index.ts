export { MovieEntity } from './movie.entity';
export { PosterEmbeddingEntity } from './poster-embedding.entity';
export { ModelVersionEntity } from './model-version.entity';
export { MoviePredictionEntity } from './movie-prediction.entity';
export { TrainingJobEntity } from './training-job.entity';
export { ApiKeyEntity } from './api-key.entity';
export { PosterTextEntity } from './poster-text.entity';
export { InteractionEntity } from './interaction.entity';
