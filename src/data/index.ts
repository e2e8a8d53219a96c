export { spiral, type Dataset2D } from './spiral.js';
export { TensorDataset, type Dataset, type DatasetColumn, type Batch, type IntegerArray } from './dataset.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
