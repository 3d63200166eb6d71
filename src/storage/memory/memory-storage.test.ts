import { storageContractSuite } from '../testing/suite.js';
import { MemoryStorage } from './memory-storage.js';

storageContractSuite('memory', async () => {
  const storage = new MemoryStorage();
  return { storage, cleanup: () => storage.close() };
});
