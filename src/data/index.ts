export { spiral, type Dataset2D, type SpiralOptions } from './spiral.js';
export { TensorDataset, type Dataset, type DatasetColumn, type Batch, type IntegerArray } from './dataset.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
