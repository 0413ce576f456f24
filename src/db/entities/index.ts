export { MovieEntity } from './movie.entity';
export { PosterEmbeddingEntity } from './poster-embedding.entity';
export { ModelVersionEntity } from './model-version.entity';
export { MoviePredictionEntity } from './movie-prediction.entity';
export { TrainingJobEntity, TrainingJobStatus } from './training-job.entity';
export { ApiKeyEntity, ApiKeyRole } from './api-key.entity';
